// Thinning: removing filters physically. A layer's kept output channels flow forward
// through the graph (activations, pools, BatchNorm, depthwise convs, Flatten/Reshape,
// Concat, residual Adds) until the consumers that read them (Conv, Gemm, MatMul),
// whose input channels shrink to match. Layers whose outputs meet in an Add are
// coupled: they must lose the same channels, so they are thinned as one group.
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { inferShapes } from '../../ir/infer.js';
import type { Tensor } from '../../ir/tensor.js';
import { applyEdits, isOpen, Refusal, walkChannels, type Edit, type Flow, type Touch } from './channel_flow.js';
import { filterLayers, findFilterLayer, channelsKept, rankChannels, selectKeep, type FilterLayer, type Norm } from './structured.js';

/** Layers that must lose the same output channels; `blocked` says why they cannot be thinned. */
export interface CouplingGroup {
  /** Friendly layer names, in graph order. */
  layers: string[];
  channels: number;
  blocked?: string;
}

function outputFlow(layer: FilterLayer, shapes: ReturnType<typeof inferShapes>, keep: Int32Array): Flow {
  const out = layer.node.outputs[0];
  const rank = shapes.get(out)?.shape.length ?? 2;
  // Conv and Gemm outputs carry channels on axis 1; MatMul on its last axis.
  const axis = layer.node.op === 'MatMul' ? rank - 1 : 1;
  return { axis, count: layer.channels, keep, ident: true };
}

const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

// Union-find over layer names.
function makeSets(names: string[]): { find(x: string): string; union(a: string, b: string): void } {
  const parent = new Map(names.map((n) => [n, n]));
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(x, r);
    return r;
  };
  return { find, union: (a, b) => parent.set(find(a), find(b)) };
}

// Where an operand no layer reaches comes from, for the error message.
function sourceOf(graph: Graph, value: string): string {
  if (graph.inputs.some((v) => v.name === value)) return `graph input "${value}"`;
  const p = graph.producers().get(value);
  return p ? `"${value}" (from node "${p.name}", ${p.op})` : `"${value}"`;
}

// Couples layers whose channels meet at the same elementwise node; blocks them when
// the other operand does not come from a thinnable layer or arrives remapped.
function coupleAtJoins(graph: Graph, touches: Map<string, Touch[]>, sets: ReturnType<typeof makeSets>, blocked: Map<string, string>): void {
  const byNode = new Map<string, { layer: string; t: Touch }[]>();
  for (const [layer, list] of touches) {
    for (const t of list) {
      const k = t.node.name;
      byNode.set(k, [...(byNode.get(k) ?? []), { layer, t }]);
    }
  }
  for (const arrivals of byNode.values()) {
    const node = arrivals[0].t.node;
    for (const { layer, t } of arrivals) {
      t.reached.forEach((r, i) => {
        if (r || !t.coupled[i]) return;
        const others = arrivals.filter((a) => a.t.reached[i]);
        if (others.length === 0) {
          const why = `node "${node.name}" (${node.op}) combines its channels with ${sourceOf(graph, node.inputs[i])}, which does not come from a layer nnzip can thin`;
          blocked.set(layer, blocked.get(layer) ?? why);
        } else if (!t.ident || others.some((o) => !o.t.ident)) {
          blocked.set(layer, blocked.get(layer) ?? `its channels reach node "${node.name}" (${node.op}) reordered (through a Concat, Flatten or grouped conv), so they cannot be matched with the other operand`);
        }
        for (const o of others) sets.union(layer, o.layer);
      });
    }
  }
}

/** The sets of layers that must be thinned together (every filter layer is in exactly one). */
export function couplingGroups(graph: Graph): CouplingGroup[] {
  const layers = filterLayers(graph);
  const shapes = inferShapes(graph);
  const sets = makeSets(layers.map((l) => l.name));
  const blocked = new Map<string, string>();
  const touches = new Map<string, Touch[]>();
  for (const l of layers) {
    const seeds = new Map([[l.node.outputs[0], outputFlow(l, shapes, all(l.channels))]]);
    try {
      touches.set(l.name, walkChannels(graph, shapes, seeds).touches);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      blocked.set(l.name, e.message);
      touches.set(l.name, e.touches);
    }
  }
  coupleAtJoins(graph, touches, sets, blocked);
  const groups = new Map<string, CouplingGroup>();
  for (const l of layers) {
    const root = sets.find(l.name);
    const g = groups.get(root) ?? { layers: [], channels: l.channels };
    g.layers.push(l.name);
    groups.set(root, g);
  }
  // Name the blocking member only when the group has several.
  for (const g of groups.values()) {
    const by = g.layers.find((n) => blocked.has(n));
    if (by) g.blocked = g.layers.length > 1 ? `layer "${by}": ${blocked.get(by)}` : blocked.get(by);
  }
  return [...groups.values()];
}

function checkKeep(keep: Int32Array, layer: FilterLayer): void {
  if (!(keep instanceof Int32Array)) fail(`thinFilters: keep for layer "${layer.name}" must be an Int32Array of channel indices`);
  if (keep.length === 0) fail(`thinFilters: keep for layer "${layer.name}" is empty; keep at least one of its ${layer.channels} channels`);
  for (let i = 0; i < keep.length; i++) {
    const k = keep[i];
    if (k < 0 || k >= layer.channels) fail(`thinFilters: keep index ${k} is out of range for layer "${layer.name}" (${layer.channels} channels: 0..${layer.channels - 1})`);
    if (i > 0 && k <= keep[i - 1]) fail(`thinFilters: keep indices for layer "${layer.name}" must be strictly increasing (got ${keep[i - 1]} then ${k})`);
  }
}

function groupOf(graph: Graph, layer: FilterLayer, where: string): { group: CouplingGroup; members: FilterLayer[] } {
  const group = couplingGroups(graph).find((g) => g.layers.includes(layer.name)) as CouplingGroup;
  if (group.blocked) {
    const coupled = group.layers.filter((n) => n !== layer.name);
    const also = coupled.length ? ` (coupled with ${coupled.map((n) => `"${n}"`).join(', ')}: their outputs meet in an Add/Sub/Mul/Div such as a residual connection, so they must lose the same channels)` : '';
    fail(`${where}: cannot thin layer "${layer.name}"${also}: ${group.blocked}`);
  }
  const members = filterLayers(graph).filter((l) => group.layers.includes(l.name));
  return { group, members };
}

// Edits that shrink the group's own filters: weight along its filter axis, and the bias.
function memberEdits(graph: Graph, layer: FilterLayer, keep: Int32Array): Edit[] {
  const index = graph.nodes.indexOf(layer.node);
  const edits: Edit[] = [{ kind: 'shrink', node: index, init: layer.weight, axis: layer.filterAxis, keep }];
  if (layer.bias) {
    const b = graph.initializers.get(layer.bias) as Tensor;
    // Gemm's C may be a scalar or [1] (broadcast): nothing to shrink then.
    if (b.shape.length > 0 && b.shape[b.shape.length - 1] === layer.channels) {
      edits.push({ kind: 'shrink', node: index, init: layer.bias, axis: b.shape.length - 1, keep });
    }
  }
  return edits;
}

/**
 * Removes the output channels of `layer` (node, weight or friendly name) not listed
 * in `keep` (ascending channel indices), and of every layer coupled with it.
 */
export function thinFilters(graph: Graph, options: { layer: string; keep: Int32Array }): Graph {
  const layer = findFilterLayer(graph, options.layer, 'thinFilters');
  checkKeep(options.keep, layer);
  const { members } = groupOf(graph, layer, 'thinFilters');
  if (options.keep.length === layer.channels) return graph.clone();
  const shapes = inferShapes(graph);
  const seeds = new Map(members.map((m) => [m.node.outputs[0], outputFlow(m, shapes, options.keep)]));
  try {
    const walk = walkChannels(graph, shapes, seeds);
    // Coupled operands were seeded with the group, so every elementwise join is reached fully.
    const open = walk.touches.find(isOpen);
    if (open) throw new Refusal(`node "${open.node.name}" (${open.node.op}) combines the thinned channels with channels that are not thinned`);
    const edits: Edit[] = [...members.flatMap((m) => memberEdits(graph, m, options.keep)), ...walk.edits];
    return applyEdits(graph, edits);
  } catch (e) {
    if (e instanceof Refusal) fail(`thinFilters: cannot thin layer "${layer.name}" with these channels: ${e.message}`);
    throw e;
  }
}

export interface PruneChannelsOptions {
  /** Fraction of output channels kept per layer, in (0, 1]; coupled layers share one entry. */
  ratios: Record<string, number>;
  norm?: Norm;
}

/**
 * Ranks each named layer's filters by norm and thins it to its keep ratio. Coupled
 * layers are ranked by the sum of their members' scores. Keeps are chosen on the
 * input graph, so the order of the layers does not matter.
 */
export function pruneChannels(graph: Graph, options: PruneChannelsOptions): Graph {
  const norm = options.norm ?? 'l1';
  if (norm !== 'l1' && norm !== 'l2') fail(`pruneChannels: option norm "${norm}" is unknown; use "l1" or "l2"`);
  if (!options.ratios || typeof options.ratios !== 'object') fail('pruneChannels: option ratios must map layer names to keep ratios, e.g. { conv1: 0.5 }');
  const plans: { layer: string; keep: Int32Array }[] = [];
  const seen = new Map<string, { layer: string; ratio: number }>();
  for (const [name, ratio] of Object.entries(options.ratios)) {
    const layer = findFilterLayer(graph, name, 'pruneChannels');
    channelsKept(layer.channels, { ratio }, `pruneChannels: layer "${name}"`);
    const { group, members } = groupOf(graph, layer, 'pruneChannels');
    const key = group.layers.join('|');
    const prior = seen.get(key);
    if (prior) {
      if (prior.ratio !== ratio) fail(`pruneChannels: layers "${prior.layer}" and "${name}" are coupled (they must lose the same channels) but have different ratios ${prior.ratio} and ${ratio}; give one ratio`);
      continue;
    }
    seen.set(key, { layer: name, ratio });
    const scores = new Float32Array(layer.channels);
    for (const m of members) {
      const s = rankChannels(graph.initializers.get(m.weight) as Tensor, m.filterAxis, norm);
      for (let i = 0; i < s.length; i++) scores[i] += s[i];
    }
    plans.push({ layer: layer.name, keep: selectKeep(scores, { ratio }) });
  }
  let g = graph;
  for (const p of plans) g = thinFilters(g, p);
  return g === graph ? graph.clone() : g;
}

