// The cost-model glue: which kernel runs a layer, from the kernels' calibrated models
// (kernels/wasm/gemm.ts, conv.ts, sparse.ts, winograd.ts, pattern.ts), with the reason written out
// for describe(): `sparse, density 8.1%, est 2.1 µs vs dense 9.8 µs`, `F(4,3) tiles, est
// 210 µs vs F(2,3) 229 µs, im2col 463 µs`. Also: when a step is worth splitting over threads.
import { isPointwise, type Window2d } from '../ir/window.js';
import { MAX_CENTROIDS } from '../kernels/csr.js';
import { denseConvKernel, denseConvNs, IM2COL_NS } from '../kernels/wasm/conv.js';
import { convKernelCosts, cscZeroThreshold, fcKernelCosts, spmmWeightNs } from '../kernels/wasm/sparse.js';
import { sampleBands, sparseParts } from '../kernels/wasm/sparse_split.js';
import { winogradNs } from '../kernels/wasm/winograd.js';
import { tileName, WINOGRAD_TILES, winogradApplies, type WinogradTile } from '../ir/winograd.js';
import { patternCandidates } from './pattern_choice.js';
import { addsubNs } from '../kernels/wasm/addsub.js';
import { channelLevels, type SignsKind } from '../ir/binary.js';
import type { ConvStep, KernelsMode, PatternOptions, PatternPlan, PlanTarget, PlanWeight, WinogradMode } from './plan_types.js';

/**
 * Smallest step split over threads: 4 MFLOP (~0.25 ms of one thread's work). A hand-off
 * to a spinning worker takes ~1 µs, but between runs the worker sleeps and waking it
 * costs tens of µs on a quiet machine (hundreds on a busy one), so small steps stay on one thread.
 */
export const SPLIT_FLOPS = 1 << 22;

/** Threads a step of `flops` is split over: all of them from `minFlops` on, else 1. */
export function partsFor(flops: number, threads: number, minFlops = SPLIT_FLOPS): number {
  return threads > 1 && flops >= minFlops ? threads : 1;
}

export function formatUs(ns: number): string {
  const us = ns / 1000;
  return us >= 100 ? `${us.toFixed(0)} µs` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}

/** Stored (non-zero) weights: pruned entries and zero centroids do not count. */
export function storedCount(w: PlanWeight): number {
  const f = w.format;
  let n = 0;
  if (f?.kind === 'codebook' && !w.derived) {
    const k = f.centroids.length;
    for (let i = 0; i < f.indices.length; i++) if (f.indices[i] < k && f.centroids[f.indices[i]] !== 0) n++;
    return n;
  }
  const d = w.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

/** Whether the weight is stored pruned or shared (the formats the sparse kernels run; a Winograd transform is dense). */
export function sparseStored(w: PlanWeight): boolean {
  return w.format?.kind === 'sparse' || w.format?.kind === 'codebook' || w.format?.kind === 'pattern';
}

/** Whether the codebook kernel (uint8 codes) can run this weight as stored. */
export function codebookUsable(w: PlanWeight): boolean {
  return w.format?.kind === 'codebook' && !w.derived && w.format.centroids.length <= MAX_CENTROIDS;
}

function formatName(w: PlanWeight): string {
  if (w.format?.kind === 'grid') return `${w.format.bits}-bit grid decoded to f32`;
  if (w.format?.kind !== 'codebook') return 'sparse';
  return codebookUsable(w) ? `codebook ${w.format.centroids.length} centroids` : 'codebook decoded to f32 (over 256 centroids or transformed)';
}

export interface Decision<K extends string> {
  impl: K;
  reason: string;
  estNs?: number;
}

export type FcImpl = 'dense' | 'csr' | 'csc' | 'sparse-auto' | 'addsub';

/**
 * Whether a layer's weight [rows × cols] can run on the add/subtract kernel, and how:
 * stored compressed with values binary or ternary row by row (whatever encoding the file
 * chose for them: binary, ternary, a 3-level grid, a 2-entry codebook), WebAssembly
 * target, kernels not forced dense. Other values fail on the row's second distinct value: cheap.
 */
export function addsubKind(w: PlanWeight, rows: number, mode: KernelsMode, target: PlanTarget = 'wasm'): SignsKind | undefined {
  if (!w.format || mode === 'dense' || target !== 'wasm' || !rows || w.data.length % rows) return undefined;
  if (typeof channelLevels(w.data, [rows, w.data.length / rows], 0, 'ternary') === 'string') return undefined;
  return w.data.includes(0) ? 'ternary' : 'binary';
}

/** How the add/subtract kernel works, as its reasons say it. */
const ADDSUB_HOW = '16 table sums of 4 inputs, one add per weight nibble';

/** The reason of an add/subtract choice: `binary weights on float inputs: table sums, est 80 µs vs dense 120 µs`. */
function addsubReason(kind: SignsKind, est: number, vs: string): string {
  return `${kind} weights on float inputs: ${ADDSUB_HOW}, est ${formatUs(est)}${vs}`;
}

/**
 * Kernel for Y[batch×out] = X·Wᵀ. `inputZeros`: expected fraction of zero inputs
 * (about half after a ReLU), which the batch-1 CSC kernel skips.
 */
export function chooseFc(w: PlanWeight, out: number, inDim: number, batch: number, mode: KernelsMode, inputZeros: number, signs?: SignsKind): Decision<FcImpl> {
  if (signs) {
    const est = fcKernelCosts(out, inDim, out * inDim, batch).dense, as = addsubNs(out, inDim, batch, signs === 'ternary');
    if (as < est) return { impl: 'addsub', reason: addsubReason(signs, as, ` vs dense ${formatUs(est)}`), estNs: as };
    return { impl: 'dense', reason: `${signs} weights, est ${formatUs(est)} vs add/subtract ${formatUs(as)}: dense wins`, estNs: est };
  }
  if (!sparseStored(w)) {
    const est = fcKernelCosts(out, inDim, out * inDim, batch).dense;
    return { impl: 'dense', reason: `weights stored dense, est ${formatUs(est)}`, estNs: est };
  }
  const nnz = storedCount(w);
  const density = out * inDim ? nnz / (out * inDim) : 0;
  const c = fcKernelCosts(out, inDim, nnz, batch, { inputZeros });
  const what = `${formatName(w)}, density ${pct(density)}`;
  if (mode === 'dense') {
    return { impl: 'dense', reason: `kernels: 'dense' forced (${what}; csr est ${formatUs(c.csr)}), est ${formatUs(c.dense)}`, estNs: c.dense };
  }
  const best = Math.min(c.csr, c.csc);
  if (c.dense < best) {
    return { impl: 'dense', reason: `${what}, est ${formatUs(c.dense)} vs csr ${formatUs(c.csr)}: dense wins`, estNs: c.dense };
  }
  if (batch <= 1 && cscZeroThreshold(out, inDim, nnz) < 1) {
    const from = cscZeroThreshold(out, inDim, nnz);
    return {
      impl: 'sparse-auto', estNs: best,
      reason: `${what}, est ${formatUs(best)} vs dense ${formatUs(c.dense)}; csr or csc per call (csc from ${pct(from)} zero inputs)`,
    };
  }
  const impl = c.csc < c.csr ? 'csc' : 'csr';
  return { impl, reason: `${what}, est ${formatUs(best)} vs dense ${formatUs(c.dense)}`, estNs: best };
}

/**
 * A conv layer as the kernel choice sees it: one call runs N images. Estimates are for
 * one thread, so that the choice (and so every output bit) is the same on any number.
 */
export interface ConvProblem {
  /** The conv node (the pattern kernel looks up its tuned variant by it). */
  node?: string;
  N: number; C: number; H: number; W: number; M: number; OH: number; OW: number;
  group: number;
  win: Window2d;
  weight: PlanWeight;
  kernels: KernelsMode;
  winograd: WinogradMode;
  /** The pattern kernel's options (default: when the cost model says it wins). */
  patterns?: PatternOptions;
  /** What the plan is for (default 'wasm'): the C target runs pattern layers on its FKW kernel and Winograd only for stored transforms under 'auto'. */
  target?: PlanTarget;
  /** The plan's threads (the pattern kernel's tuned variant depends on them at batch 1). */
  threads?: number;
}

export type ConvImpl = ConvStep['impl'];

/** One way to run the layer: the kernel, how the reason names it, its estimate per call. */
export interface ConvCandidate {
  impl: ConvImpl;
  label: string;
  /** ns per call; absent when the kernel has no cost model (it then only runs when alone). */
  estNs?: number;
  tile?: WinogradTile;
  /** Set when an option makes this candidate win wherever it applies. */
  forced?: string;
  /** impl 'pattern': what the reason says when it runs (patterns, kernels kept), and its plan. */
  detail?: string;
  pattern?: PatternPlan;
  /** Set when the kernel cannot run this layer though it nearly could: why (appended to the reason); never chosen. */
  note?: string;
}

function denseCandidate(p: ConvProblem): ConvCandidate[] {
  const impl = denseConvKernel(p.C, p.M, p.group, p.win), Mg = p.M / p.group, K = (p.C / p.group) * p.win.kh * p.win.kw;
  const estNs = impl === 'depthwise' ? undefined : p.N * p.group * denseConvNs(impl, Mg, K, p.OH * p.OW);
  return [{ impl, label: impl === 'pointwise' ? '1×1 gemm' : impl, estNs }];
}

/** The add/subtract kernel for binary / ternary weights (im2col as the dense conv, then table sums). */
function addsubCandidate(p: ConvProblem): ConvCandidate[] {
  const kind = p.group === 1 ? addsubKind(p.weight, p.M, p.kernels, p.target) : undefined;
  if (!kind) return [];
  const K = p.C * p.win.kh * p.win.kw, P = p.OH * p.OW;
  return [{ impl: 'addsub', label: 'add/subtract', estNs: p.N * (addsubNs(p.M, K, P, kind === 'ternary') + IM2COL_NS * K * P), detail: `${kind} weights on float inputs: patches unfolded, ${ADDSUB_HOW}` }];
}

/** The CSR kernel for stored-sparse weights. */
function sparseCandidate(p: ConvProblem): ConvCandidate[] {
  const w = p.weight;
  if (!sparseStored(w) || p.kernels === 'dense' || (p.group > 1 && p.group === p.C && p.group === p.M)) return [];
  const Mg = p.M / p.group, K = (p.C / p.group) * p.win.kh * p.win.kw, P = p.OH * p.OW;
  const nnz = Math.min(Math.round(storedCount(w) / p.group), Mg * K);
  return [{ impl: 'csr', label: 'csr', estNs: p.N * p.group * (convKernelCosts(Mg, K, nnz, P).csr + (isPointwise(p.win) ? 0 : IM2COL_NS * K * P)) }];
}

/**
 * Winograd tiles by estimate, or the forced ones. Target c under 'auto' has no cost model
 * against its direct kernels: a weight stored transformed runs its stored tile (the
 * filters as the format keeps them), others run directly unless 'on' or a tile forces it.
 */
function winogradCandidates(p: ConvProblem): ConvCandidate[] {
  if (p.winograd === 'off' || !winogradApplies(p.win, p.group)) return [];
  const f = p.weight.format, stored = f?.kind === 'winograd' && !p.weight.derived ? f.tile : undefined;
  if (p.target === 'c' && p.winograd === 'auto' && stored === undefined) return [];
  const tiles = typeof p.winograd === 'number' ? [p.winograd] : p.target === 'c' && p.winograd === 'auto' ? [stored!] : WINOGRAD_TILES;
  const s = { N: p.N, C: p.C, H: p.H, W: p.W, M: p.M, OH: p.OH, OW: p.OW, win: p.win };
  const forced = p.winograd !== 'auto' ? `winograd: ${typeof p.winograd === 'number' ? p.winograd : `'on'`} forced` : p.target === 'c' ? 'target c: the stored Winograd filters' : undefined;
  return tiles.map((m) => ({ impl: 'winograd', label: tileName(m), tile: m, estNs: winogradNs(s, m), forced }));
}

/**
 * The kernel families that can run a conv, one entry each: every entry offers its
 * candidates for the layer with their estimates (none when it does not apply), and
 * the cheapest wins (or the cheapest forced one). A new conv kernel adds one entry.
 */
export const CONV_CANDIDATES: readonly ((p: ConvProblem) => ConvCandidate[])[] = [
  denseCandidate, sparseCandidate, winogradCandidates, addsubCandidate,
  (p) => patternCandidates(p).map((c) => ('note' in c ? { impl: 'pattern', label: 'pattern', note: c.note } : c)),
];

const est = (c: ConvCandidate): number => c.estNs ?? Infinity;

/** The kernel for a conv, with the reason describe() prints: `F(4,3), est 210 µs vs F(2,3) 229 µs, im2col 463 µs`. */
export function chooseConv(p: ConvProblem): Decision<ConvImpl> & { tile?: WinogradTile; pattern?: PatternPlan } {
  const offered = CONV_CANDIDATES.flatMap((f) => f(p));
  const all = offered.filter((c) => c.note === undefined);
  const notes = offered.flatMap((c) => (c.note === undefined ? [] : [`; ${c.note}`])).join('');
  const forced = all.filter((c) => c.forced);
  const best = (forced.length ? forced : all).reduce((a, b) => (est(b) < est(a) ? b : a));
  const others = all.filter((c) => c !== best && c.estNs !== undefined).sort((a, b) => est(a) - est(b));
  const vs = others.length ? ` vs ${others.map((c) => `${c.label} ${formatUs(est(c))}`).join(', ')}` : '';
  const w = p.weight, total = p.M * (p.C / p.group) * p.win.kh * p.win.kw;
  const stored = !sparseStored(w) || best.impl === 'pattern' || best.impl === 'addsub' ? '' : `${formatName(w)}, density ${pct(total ? storedCount(w) / total : 0)}${
    p.kernels === 'dense' ? `, kernels: 'dense' forced` : best.impl === 'depthwise' ? '; no sparse depthwise kernel, runs dense' : ''}; `;
  const kept = w.format?.kind === 'winograd' && w.format.tile === best.tile && !w.derived ? ', filters stored transformed' : '';
  const why = best.impl === 'depthwise' ? `group = C = M = ${p.group}` : best.impl === 'pointwise' ? '1×1, stride 1, no pads: the input is the GEMM operand'
    : best.impl === 'im2col' ? 'patches unfolded, then GEMM' : best.impl === 'winograd' ? `${best.label} tiles${kept}`
    : best.impl === 'pattern' ? best.detail! : best.impl === 'addsub' ? best.detail!
    : 'sparse rows times the patches';
  const estimate = best.estNs === undefined ? '' : `, est ${formatUs(best.estNs)}${vs}`;
  return { impl: best.impl, tile: best.tile, pattern: best.pattern, estNs: best.estNs, reason: `${best.forced ? `${best.forced}; ` : ''}${stored}${why}${estimate}${notes}` };
}

/**
 * How a sparse FC is shared out. Batch 1: rows of the weights. A batch: by samples
 * when the bands keep the spmm's 16-column tiles (batch 5, or 64 on 2 threads),
 * else by rows of the weights after Xᵀ on the calling thread, which pays later:
 * 0.9× at est 50 µs, 1.2× at 90, 1.4× at 190 (384², 512², 768² at 25%, batch 16, 2 threads).
 */
export function fcSplit(w: PlanWeight, out: number, inDim: number, batch: number, threads: number): { parts: number; by: 'samples' | 'rows' } {
  const est = fcKernelCosts(out, inDim, storedCount(w), batch).csr;
  const parts = sparseParts(est, threads);
  if (batch === 1 || parts === 1 || bandsKeepTiles(batch, sampleBands(batch, parts), parts)) return { parts, by: 'samples' };
  return { parts: sparseParts(est / 2, threads), by: 'rows' };
}

/** Whether the sample bands cost about what an even cut of the work would (narrow bands lose the 16-column tiles). */
function bandsKeepTiles(M: number, bands: [number, number][], parts: number): boolean {
  return Math.max(...bands.map(([n0, n1]) => spmmWeightNs(n1 - n0))) <= (1.25 * spmmWeightNs(M)) / parts;
}
