// foldBatchNorm: Conv / ConvTranspose / Gemm followed by an inference BatchNormalization
// (and nothing else reading the first op's output) becomes one op with scaled
// weights and a shifted bias: k = scale/√(var+ε), W' = k·W, b' = k·(b − mean) + B.
// Initializers no node reads afterwards (the BatchNorms' parameters) are dropped.
import type { Graph, Node } from '../graph.js';
import { Tensor } from '../tensor.js';
import { removeUnusedInitializers } from './remove_unused.js';

const FOLDABLE = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/** An initializer that a feed cannot override (not also a graph input). */
function constant(g: Graph, name: string | undefined): Tensor | undefined {
  if (!name || g.inputs.some((v) => v.name === name)) return undefined;
  return g.initializers.get(name);
}

/**
 * The fold of an inference BatchNorm into the op before it, per output channel:
 * k = scale/√(var+ε) (as the reference kernel computes it) multiplies the weights,
 * and the bias becomes k·(b − mean) + beta. Also used by training's BN refold.
 */
export function bnScale(scale: ArrayLike<number>, variance: ArrayLike<number>, eps: number): Float64Array {
  return Float64Array.from({ length: scale.length }, (_, c) => scale[c] / Math.sqrt(variance[c] + eps));
}

/** The bias after the fold: k·(b − mean) + beta. */
export const bnShift = (k: number, bias: number, mean: number, beta: number): number => k * (bias - mean) + beta;

/** Per-channel k (bnScale), mean and beta, or undefined if not constant. */
function bnFactors(g: Graph, bn: Node): { k: Float64Array; mean: Float64Array; beta: Float64Array } | undefined {
  const [scale, beta, mean, variance] = bn.inputs.slice(1, 5).map((n) => constant(g, n));
  if (!scale || !beta || !mean || !variance) return undefined;
  if (![scale, beta, mean, variance].every((t) => t.dtype === 'float32' && t.size === scale.size)) return undefined;
  const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
  const k = bnScale(scale.data as Float32Array, variance.data as Float32Array, eps);
  return { k, mean: Float64Array.from(mean.data as Float32Array), beta: Float64Array.from(beta.data as Float32Array) };
}

/** The op's output-channel count and the output channel each weight element feeds, per weight layout. */
function channelsOf(op: Node, w: Tensor): { count: number; of: (i: number) => number } | undefined {
  if (op.op === 'Conv') {
    const per = w.size / w.shape[0];
    return { count: w.shape[0], of: (i) => Math.floor(i / per) };
  }
  if (op.op === 'ConvTranspose') {
    const group = typeof op.attrs.group === 'number' ? op.attrs.group : 1;
    const [cin, mg] = w.shape;
    const spatial = w.size / (cin * mg);
    const cg = cin / group;
    const of = (i: number) => Math.floor(Math.floor(i / (mg * spatial)) / cg) * mg + (Math.floor(i / spatial) % mg);
    return { count: mg * group, of };
  }
  if (op.op === 'Gemm' && w.shape.length === 2) {
    const transB = op.attrs.transB === 1;
    const n = w.shape[transB ? 0 : 1];
    return { count: n, of: transB ? (i) => Math.floor(i / w.shape[1]) : (i) => i % n };
  }
  return undefined;
}

/** The existing bias as float64 per output channel (Gemm: alpha/beta and C broadcast along columns only). */
function biasOf(g: Graph, op: Node, channels: number): Float64Array | undefined {
  const name = op.inputs[2];
  const bias = constant(g, name);
  if (name && !bias) return undefined;
  const out = new Float64Array(channels);
  if (!bias) return out;
  const beta = op.op === 'Gemm' && typeof op.attrs.beta === 'number' ? op.attrs.beta : 1;
  const perColumn = bias.size === channels && bias.shape.every((d, i) => i === bias.shape.length - 1 || d === 1);
  if (bias.dtype !== 'float32' || !(perColumn || bias.size === 1)) return undefined;
  for (let c = 0; c < channels; c++) out[c] = beta * (bias.data[bias.size === 1 ? 0 : c] as number);
  return out;
}

function uniqueName(g: Graph, base: string): string {
  let name = base;
  for (let i = 1; g.initializers.has(name); i++) name = `${base}_${i}`;
  return name;
}

/** Folds bn into op in g; returns false (changing nothing) if the pattern does not fit. */
function foldPair(g: Graph, op: Node, bn: Node): boolean {
  const w = constant(g, op.inputs[1]);
  const f = bnFactors(g, bn);
  if (!w || w.dtype !== 'float32' || !f) return false;
  const ch = channelsOf(op, w);
  const channels = f.k.length;
  if (!ch || ch.count !== channels) return false;
  const bias = biasOf(g, op, channels);
  if (!bias) return false;
  const alpha = op.op === 'Gemm' && typeof op.attrs.alpha === 'number' ? op.attrs.alpha : 1;
  const newW = new Tensor('float32', w.shape);
  for (let i = 0; i < w.size; i++) {
    const c = ch.of(i);
    newW.data[i] = alpha * f.k[c] * (w.data[i] as number);
  }
  const newB = new Tensor('float32', [channels]);
  for (let c = 0; c < channels; c++) newB.data[c] = bnShift(f.k[c], bias[c], f.mean[c], f.beta[c]);
  const wName = uniqueName(g, `${op.inputs[1]}_bnfolded`);
  const bName = uniqueName(g, `${op.inputs[2] || `${op.name}_bias`}_bnfolded`);
  g.initializers.set(wName, newW);
  g.initializers.set(bName, newB);
  op.inputs = [op.inputs[0], wName, bName];
  if (op.op === 'Gemm') op.attrs = { ...op.attrs, alpha: 1, beta: 1 };
  op.outputs = [bn.outputs[0]];
  return true;
}

export function foldBatchNorm(graph: Graph): Graph {
  const g = graph.clone();
  const consumers = g.consumers();
  const graphOutputs = new Set(g.outputs.map((v) => v.name));
  const producers = g.producers();
  const removed = new Set<Node>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization' || bn.outputs.filter((o) => o).length !== 1 || bn.attrs.training_mode === 1) continue;
    const op = producers.get(bn.inputs[0]);
    if (!op || !FOLDABLE.has(op.op) || removed.has(op)) continue;
    const mid = op.outputs[0];
    if (graphOutputs.has(mid) || (consumers.get(mid) ?? []).length !== 1) continue;
    if (foldPair(g, op, bn)) removed.add(bn);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  // the folded BatchNorms' parameters and the replaced weights are read by no node now
  return removed.size > 0 ? removeUnusedInitializers(g) : g;
}
