// How kept channels flow through a graph, op by op (used by thin.ts): which positions
// of each value's channel axis survive, and the edits (shrunk weights, attributes,
// Reshape shapes) that removing the others needs. One rule per op; an op without a
// rule that reads thinned channels stops the walk with a Refusal saying why.
import { attrInt, attrInts, type Graph, type Node } from '../../ir/graph.js';
import type { ValueType } from '../../ir/ops.js';
import { fromNumbers, sizeOf, Tensor, toNumbers } from '../../ir/tensor.js';

/** The kept positions of a value along its channel axis. */
export interface Flow {
  axis: number;
  /** Positions along the axis before thinning. */
  count: number;
  /** Kept positions, ascending. */
  keep: Int32Array;
  /** Positions are the layer's channels themselves (not remapped by Concat/Flatten/multiplier). */
  ident: boolean;
}

export type Edit =
  | { kind: 'shrink'; node: number; init: string; axis: number; keep: Int32Array }
  | { kind: 'attr'; node: number; key: string; value: number }
  | { kind: 'shape'; node: number; input: number; values: number[] };

/** An elementwise join of channel-carrying operands (`coupled`), of which the walk `reached` some or all. */
export interface Touch {
  node: Node;
  reached: boolean[];
  coupled: boolean[];
  ident: boolean;
}

/** A join with a coupled operand the walk did not reach. */
export const isOpen = (t: Touch): boolean => t.coupled.some((c, i) => c && !t.reached[i]);

/** Why channels cannot flow on (caught by the caller, which names the layer). */
export class Refusal extends Error {
  /** The joins reached before the refusal (so coupling is still known). */
  touches: Touch[] = [];
}

interface Walk {
  graph: Graph;
  shapes: Map<string, ValueType>;
  flows: Map<string, Flow>;
  edits: Edit[];
  touches: Touch[];
  /** Index of the node being visited (edits refer to nodes by index, valid in clones). */
  index: number;
}

type Rule = (w: Walk, node: Node, ins: (Flow | undefined)[]) => void;

function refuse(node: Node, message: string): never {
  throw new Refusal(`node "${node.name}" (${node.op}) ${message}`);
}

function shapeOf(w: Walk, node: Node, value: string): number[] {
  const t = w.shapes.get(value);
  if (!t) refuse(node, `has an input or output "${value}" of unknown shape`);
  return t.shape;
}

const sameKeep = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

// Only the first input may carry channels: the others are weights or parameters.
function dataOnly(node: Node, ins: (Flow | undefined)[]): Flow {
  const i = ins.findIndex((f, k) => k > 0 && f);
  if (i > 0) refuse(node, `reads thinned channels as input ${i} ("${node.inputs[i]}"), which must be a weight or a parameter`);
  if (!ins[0]) refuse(node, 'has no thinned data input');
  return ins[0];
}

function shrink(w: Walk, node: Node, input: number, axis: number, keep: Int32Array): void {
  const name = node.inputs[input];
  if (!name) return;
  const t = w.graph.initializers.get(name);
  if (!t) refuse(node, `takes input ${input} ("${name}") from a computed value, not a weight; nnzip cannot shrink it`);
  w.edits.push({ kind: 'shrink', node: w.index, init: name, axis, keep });
}

function setOut(w: Walk, node: Node, f: Flow, outputs = node.outputs.length): void {
  for (const o of node.outputs.slice(0, outputs)) if (o) w.flows.set(o, f);
}

const unary: Rule = (w, node, ins) => setOut(w, node, dataOnly(node, ins));

const pool: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  if (f.axis !== 1) refuse(node, `pools over axis ${f.axis}, which carries the thinned channels`);
  if (node.outputs[1]) refuse(node, 'returns indices, which encode channel offsets');
  setOut(w, node, f);
};

const batchNorm: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  if (f.axis !== 1) refuse(node, `normalises axis 1, but the thinned channels are on axis ${f.axis}`);
  if (node.outputs.slice(1).some(Boolean)) refuse(node, 'is in training mode (running statistics as outputs)');
  for (let i = 1; i <= 4; i++) shrink(w, node, i, 0, f.keep);
  setOut(w, node, f, 1);
};

// Add/Sub/Mul/Div: constant operands shrink where they broadcast per channel; other
// operands must carry the same channels (residual connections couple their producers).
const binary: Rule = (w, node, ins) => {
  const rank = shapeOf(w, node, node.outputs[0]).length;
  const flows = ins.map((f, i) => f && { ...f, axis: f.axis + rank - shapeOf(w, node, node.inputs[i]).length });
  const first = flows.find((f) => f) as Flow;
  for (const f of flows) {
    if (f && (f.axis !== first.axis || f.count !== first.count || !sameKeep(f.keep, first.keep))) {
      refuse(node, 'combines operands whose channels are thinned differently');
    }
  }
  const touch: Touch = { node, reached: flows.map(Boolean), coupled: flows.map(Boolean), ident: flows.every((f) => !f || f.ident) };
  node.inputs.forEach((name, i) => {
    if (flows[i] || !name) return;
    const s = shapeOf(w, node, name);
    const j = first.axis - (rank - s.length);
    if (j < 0 || s[j] === 1) return; // broadcast along the channels: nothing to remove
    if (w.graph.initializers.has(name)) shrink(w, node, i, j, first.keep);
    else touch.coupled[i] = true;
  });
  if (touch.coupled.filter(Boolean).length > 1) w.touches.push(touch);
  setOut(w, node, first);
};

const expand = (keep: Int32Array, m: number): Int32Array => {
  const out = new Int32Array(keep.length * m);
  keep.forEach((c, i) => {
    for (let j = 0; j < m; j++) out[i * m + j] = c * m + j;
  });
  return out;
};

// Conv reading thinned channels: group=1 loses input channels; a depthwise conv loses
// whole groups (its filters follow), and its outputs flow on.
const conv: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  if (f.axis !== 1) refuse(node, `reads channels on axis 1, but the thinned channels are on axis ${f.axis}`);
  const weight = w.graph.initializers.get(node.inputs[1]);
  if (!weight) refuse(node, `has a computed weight "${node.inputs[1]}"; nnzip cannot shrink it`);
  const group = attrInt(node, 'group', 1);
  if (group === 1) {
    if (weight.shape[1] !== f.count) refuse(node, `weight [${weight.shape.join(',')}] does not match ${f.count} input channels`);
    shrink(w, node, 1, 1, f.keep);
    return;
  }
  if (group !== f.count || weight.shape[1] !== 1) {
    refuse(node, `is a grouped conv (group=${group} over ${f.count} channels): removing channels would break its groups`);
  }
  const m = weight.shape[0] / group;
  const keep = expand(f.keep, m);
  shrink(w, node, 1, 0, keep);
  shrink(w, node, 2, 0, keep);
  w.edits.push({ kind: 'attr', node: w.index, key: 'group', value: f.keep.length });
  setOut(w, node, { axis: 1, count: weight.shape[0], keep, ident: f.ident && m === 1 });
};

const convTranspose: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  if (f.axis !== 1 || attrInt(node, 'group', 1) !== 1) refuse(node, 'is grouped or reads channels on another axis');
  shrink(w, node, 1, 0, f.keep);
};

const gemm: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  if (attrInt(node, 'transA', 0) !== 0) refuse(node, 'has transA=1');
  if (f.axis !== 1) refuse(node, `reads the channels on axis ${f.axis} of its input`);
  shrink(w, node, 1, attrInt(node, 'transB', 0) === 1 ? 1 : 0, f.keep);
};

const matmul: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  const rank = shapeOf(w, node, node.inputs[0]).length;
  if (f.axis !== rank - 1) refuse(node, `multiplies along axis ${rank - 1}, but the thinned channels are on axis ${f.axis}`);
  const b = w.graph.initializers.get(node.inputs[1]);
  if (!b || b.shape.length !== 2) refuse(node, 'has a second input that is not a constant matrix');
  shrink(w, node, 1, 0, f.keep);
};

// Reshape, Flatten, Squeeze, Unsqueeze: the dims before the channel axis must stay;
// channel c covers flat offsets [c·post, (c+1)·post) after it, and an output position
// is kept when all of its offsets are (Flatten maps channel c to columns c·H·W …).
const reshape: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  const s = shapeOf(w, node, node.inputs[0]);
  const t = shapeOf(w, node, node.outputs[0]);
  const a = f.axis;
  if (t.length <= a || s.slice(0, a).some((d, i) => d !== t[i])) {
    refuse(node, `moves the thinned channel axis ${a} ([${s.join(',')}] → [${t.join(',')}])`);
  }
  const postS = sizeOf(s.slice(a + 1));
  const postT = sizeOf(t.slice(a + 1));
  const kept = new Uint8Array(s[a] * postS);
  for (const c of f.keep) kept.fill(1, c * postS, (c + 1) * postS);
  const keep: number[] = [];
  for (let q = 0; q < t[a]; q++) {
    let n = 0;
    for (let r = q * postT; r < (q + 1) * postT; r++) n += kept[r];
    if (n === postT) keep.push(q);
    else if (n > 0) refuse(node, `mixes kept and removed channels in output position ${q} of axis ${a}`);
  }
  if (node.op === 'Reshape') reshapeSpec(w, node, a, keep.length, postS === postT);
  setOut(w, node, { axis: a, count: t[a], keep: Int32Array.from(keep), ident: f.ident && postS === postT });
};

// A Reshape whose shape constant spells out the channel dim gets the new count.
function reshapeSpec(w: Walk, node: Node, a: number, count: number, sameDim: boolean): void {
  const spec = w.graph.initializers.get(node.inputs[1]);
  if (!spec) refuse(node, `takes its shape from a computed value "${node.inputs[1]}"; simplify the graph first`);
  const values = toNumbers(spec);
  if (values[a] === -1) return;
  if (values[a] === 0 && attrInt(node, 'allowzero', 0) === 0) {
    if (!sameDim) refuse(node, `copies dim ${a} (shape entry 0) into a differently sized dim`);
    return;
  }
  values[a] = count;
  w.edits.push({ kind: 'shape', node: w.index, input: 1, values });
}

const concat: Rule = (w, node, ins) => {
  const rank = shapeOf(w, node, node.outputs[0]).length;
  const axis = (attrInt(node, 'axis', 1) + rank) % rank;
  const keep: number[] = [];
  let offset = 0;
  node.inputs.forEach((name, i) => {
    const n = shapeOf(w, node, name)[axis];
    const f = ins[i];
    if (f && f.axis !== axis) refuse(node, `concatenates along axis ${axis}, but the thinned channels are on axis ${f.axis}`);
    if (f) for (const k of f.keep) keep.push(offset + k);
    else for (let k = 0; k < n; k++) keep.push(offset + k);
    offset += n;
  });
  setOut(w, node, { axis, count: offset, keep: Int32Array.from(keep), ident: false });
};

const transpose: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  const rank = shapeOf(w, node, node.inputs[0]).length;
  const perm = attrInts(node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  setOut(w, node, { ...f, axis: perm.indexOf(f.axis) });
};

const reduceMean: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  const rank = shapeOf(w, node, node.inputs[0]).length;
  const axes = attrInts(node, 'axes', []).map((x) => (x + rank) % rank);
  if (axes.length === 0 && attrInt(node, 'noop_with_empty_axes', 0) === 1) return setOut(w, node, f);
  if (axes.length === 0 || axes.includes(f.axis)) refuse(node, `reduces over the thinned channel axis ${f.axis}`);
  const axis = attrInt(node, 'keepdims', 1) === 1 ? f.axis : f.axis - axes.filter((x) => x < f.axis).length;
  setOut(w, node, { ...f, axis });
};

const softmax: Rule = (w, node, ins) => {
  const f = dataOnly(node, ins);
  const rank = shapeOf(w, node, node.inputs[0]).length;
  if ((attrInt(node, 'axis', -1) + rank) % rank === f.axis) refuse(node, 'normalises across the thinned channels');
  setOut(w, node, f);
};

const RULES: Record<string, Rule> = {
  Relu: unary, LeakyRelu: unary, Sigmoid: unary, Tanh: unary, Clip: unary, Identity: unary, Dropout: unary, Cast: unary,
  MaxPool: pool, AveragePool: pool, GlobalAveragePool: pool, GlobalMaxPool: pool,
  BatchNormalization: batchNorm,
  Add: binary, Sub: binary, Mul: binary, Div: binary,
  Conv: conv, ConvTranspose: convTranspose, Gemm: gemm, MatMul: matmul,
  Reshape: reshape, Flatten: reshape, Squeeze: reshape, Unsqueeze: reshape,
  Concat: concat, Transpose: transpose, ReduceMean: reduceMean, Softmax: softmax,
};

/**
 * Follows the seeded flows (layer outputs) through the graph in node order.
 * Throws Refusal when channels reach an op without a rule or a graph output.
 */
export function walkChannels(graph: Graph, shapes: Map<string, ValueType>, seeds: Map<string, Flow>): { edits: Edit[]; touches: Touch[] } {
  const w: Walk = { graph, shapes, flows: new Map(seeds), edits: [], touches: [], index: 0 };
  try {
    graph.nodes.forEach((node, index) => {
      const ins = node.inputs.map((v) => (v ? w.flows.get(v) : undefined));
      if (!ins.some(Boolean)) return;
      const rule = RULES[node.op];
      if (!rule) refuse(node, `reads the thinned channels, and nnzip cannot thin through ${node.op}`);
      w.index = index;
      rule(w, node, ins);
    });
    for (const o of graph.outputs) {
      if (w.flows.has(o.name)) throw new Refusal(`its channels reach the graph output "${o.name}", whose shape must not change (the last layer cannot be thinned)`);
    }
  } catch (e) {
    if (e instanceof Refusal) e.touches = w.touches;
    throw e;
  }
  return { edits: w.edits, touches: w.touches };
}

// Slices `t` along `axis` to the kept positions; also returns the flat source index of each element.
function shrinkTensor(t: Tensor, axis: number, keep: Int32Array): { tensor: Tensor; source: Int32Array } {
  const outer = sizeOf(t.shape.slice(0, axis));
  const n = t.shape[axis];
  const inner = sizeOf(t.shape.slice(axis + 1));
  const shape = [...t.shape];
  shape[axis] = keep.length;
  const tensor = new Tensor(t.dtype, shape);
  const source = new Int32Array(tensor.size);
  const src = t.data as { [i: number]: number | bigint };
  const dst = tensor.data as { [i: number]: number | bigint };
  let j = 0;
  for (let o = 0; o < outer; o++) {
    for (const k of keep) {
      const base = (o * n + k) * inner;
      for (let r = 0; r < inner; r++, j++) {
        source[j] = base + r;
        dst[j] = src[base + r];
      }
    }
  }
  return { tensor, source };
}

// A codebook format holds one index per element: its indices follow the kept elements
// (a stored Winograd transform is of the old shape: dropped, the session transforms again).
function shrinkFormat(g: Graph, name: string, source: Int32Array): void {
  const f = g.formats.get(name);
  if (f?.kind === 'winograd') g.formats.delete(name);
  if (!f || f.kind !== 'codebook') return;
  const indices = new (f.indices.constructor as Uint16ArrayConstructor)(source.length);
  source.forEach((s, j) => (indices[j] = f.indices[s]));
  g.formats.set(name, { ...f, indices });
}

function freshName(g: Graph, base: string): string {
  const taken = new Set([...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs), ...g.inputs.map((v) => v.name)]);
  let k = 1;
  while (taken.has(`${base}_thin${k}`)) k++;
  return `${base}_thin${k}`;
}

/** Applies edits to a clone of `graph`; throws Refusal when a weight to shrink is shared with an unedited node. */
export function applyEdits(graph: Graph, edits: Edit[]): Graph {
  const out = graph.clone();
  const users = new Map<string, Set<number>>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => users.set(v, (users.get(v) ?? new Set()).add(i))));
  const editors = new Map<string, Set<number>>();
  for (const e of edits) if (e.kind === 'shrink') editors.set(e.init, (editors.get(e.init) ?? new Set()).add(e.node));
  const done = new Map<string, Int32Array>();
  for (const e of edits) {
    const node = out.nodes[e.node];
    if (e.kind === 'attr') node.attrs[e.key] = e.value;
    else if (e.kind === 'shape') {
      const name = node.inputs[e.input];
      const old = out.initializers.get(name) as Tensor;
      const target = (users.get(name)?.size ?? 0) > 1 ? freshName(out, name) : name;
      out.initializers.set(target, fromNumbers(old.dtype, old.shape, e.values));
      node.inputs[e.input] = target;
      // The shared original may now be unused.
      if (!out.nodes.some((n) => n.inputs.includes(name))) out.initializers.delete(name);
    } else {
      const key = `${e.init}@${e.axis}`;
      const prev = done.get(key);
      if (prev && !sameKeep(prev, e.keep)) throw new Refusal(`tensor "${e.init}" would be thinned two different ways`);
      if (prev) continue;
      const shared = [...(users.get(e.init) ?? [])].find((i) => !editors.get(e.init)?.has(i));
      if (shared !== undefined) throw new Refusal(`tensor "${e.init}" is shared with node "${graph.nodes[shared].name}", which does not lose the same channels`);
      const old = out.initializers.get(e.init) as Tensor;
      const { tensor, source } = shrinkTensor(old, e.axis, e.keep);
      out.initializers.set(e.init, tensor);
      shrinkFormat(out, e.init, source);
      done.set(key, e.keep);
    }
  }
  return out;
}
