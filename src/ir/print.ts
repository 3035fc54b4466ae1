// A readable text dump of a graph: inputs, initializers (shape, dtype), one line per
// node with its output shapes (inferred with every symbolic dim = 1), outputs.
import type { AttrValue, Dim, Graph } from './graph.js';
import { inferShapes } from './infer.js';
import type { ValueType } from './ops.js';
import { Tensor } from './tensor.js';
import { NnzipError } from './errors.js';

const dimsStr = (shape: readonly Dim[]): string => `[${shape.join(',')}]`;

function attrStr(v: AttrValue): string {
  if (v instanceof Tensor) return `<${v.dtype}${dimsStr(v.shape)}>`;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(',')}]`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function typeStr(t: ValueType | undefined): string {
  return t ? `${t.dtype}${dimsStr(t.shape)}` : '?';
}

/** Shapes for the dump; a graph that does not infer still prints (with '?' and the reason). */
function tryInfer(graph: Graph): { types: Map<string, ValueType>; error?: string } {
  try {
    return { types: inferShapes(graph) };
  } catch (e) {
    if (e instanceof NnzipError) return { types: new Map(), error: e.message };
    throw e;
  }
}

export function printGraph(graph: Graph): string {
  const { types, error } = tryInfer(graph);
  const lines: string[] = [];
  const symbols = new Set(graph.inputs.flatMap((v) => v.shape.filter((d): d is string => typeof d === 'string')));
  const note = symbols.size ? ` (shapes for ${[...symbols].map((s) => `${s}=1`).join(', ')})` : '';
  lines.push(`graph "${graph.name}" opset ${graph.opset}${note}`);
  lines.push('inputs:');
  for (const v of graph.inputs) lines.push(`  ${v.name}: ${v.dtype}${dimsStr(v.shape)}`);
  let params = 0;
  for (const t of graph.initializers.values()) params += t.size;
  lines.push(`initializers: ${graph.initializers.size} tensors, ${params.toLocaleString('en-US')} values`);
  for (const [name, t] of graph.initializers) lines.push(`  ${name}: ${t.dtype}${dimsStr(t.shape)}`);
  lines.push(`nodes: ${graph.nodes.length}`);
  for (const n of graph.nodes) {
    const outs = n.outputs.filter((o) => o).map((o) => `${o}: ${typeStr(types.get(o))}`).join(', ');
    const attrs = Object.entries(n.attrs).map(([k, v]) => `${k}=${attrStr(v)}`).join(' ');
    lines.push(`  ${outs} = ${n.op}(${n.inputs.join(', ')})${attrs ? ` {${attrs}}` : ''}  # ${n.name}`);
  }
  lines.push('outputs:');
  for (const v of graph.outputs) lines.push(`  ${v.name}: ${v.dtype}${dimsStr(v.shape)}`);
  if (error) lines.push(`shape inference failed: ${error}`);
  return lines.join('\n') + '\n';
}

/** 812 B, 27.1 KB, 1.02 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}
