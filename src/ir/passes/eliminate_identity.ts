// eliminateIdentity: removes Identity and inference-time Dropout nodes, rewiring
// their consumers to the node's input. If the removed value is a graph output,
// the output keeps its name: the producer of the input is renamed instead.
import type { Graph, Node } from '../graph.js';

const PASS_THROUGH = new Set(['Identity', 'Dropout']);

function renameUses(graph: Graph, from: string, to: string): void {
  for (const n of graph.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

/** Dropout is removable only when its mask is unused and training_mode is absent or a constant false. */
function isPassThrough(graph: Graph, node: Node, used: Set<string>): boolean {
  if (!PASS_THROUGH.has(node.op) || !node.inputs[0] || !node.outputs[0]) return false;
  if (node.op !== 'Dropout') return true;
  const mask = node.outputs[1];
  if (mask && used.has(mask)) return false;
  const training = node.inputs[2];
  if (!training) return true;
  const t = graph.initializers.get(training);
  return t !== undefined && t.size === 1 && Number(t.data[0]) === 0;
}

export function eliminateIdentity(graph: Graph): Graph {
  const g = graph.clone();
  const graphOutputs = new Set(g.outputs.map((v) => v.name));
  const used = new Set<string>([...graphOutputs, ...g.nodes.flatMap((n) => n.inputs)]);
  const removed = new Set<Node>();
  for (const node of g.nodes) {
    if (!isPassThrough(g, node, used)) continue;
    const src = node.inputs[0];
    const dst = node.outputs[0];
    if (!graphOutputs.has(dst)) {
      renameUses(g, dst, src);
      removed.add(node);
      continue;
    }
    // dst must stay: rename src's producer to dst, if src is a plain intermediate value.
    const producer = g.nodes.find((n) => n !== node && !removed.has(n) && n.outputs.includes(src));
    if (!producer || graphOutputs.has(src)) continue;
    producer.outputs = producer.outputs.map((o) => (o === src ? dst : o));
    renameUses(g, src, dst);
    removed.add(node);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return g;
}
