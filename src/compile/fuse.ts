// Fusion passes over the lowered steps, in order: a constant bias Add into the
// conv / fc before it, a BatchNormalization into its conv / fc (scaled weights),
// Relu / Clip into the epilogue of a conv / fc, a BatchNormalization before an xnor
// layer's Sign into its input packing, QDQ units into integer steps (fuse_int.ts; for
// the C target the 8-bit graph inputs and outputs too), pools into a conv (C target:
// into the conv before them; WASM: a 2×2 max pool into the pad step of the pattern
// conv that reads it, an integer one into the integer Winograd conv before it), and the
// QuantizeLinear → DequantizeLinear pairs left into one float step. A step is fused into
// its producer only when the producer's output has no other reader and is not a graph output.
import { convBand, convScratchBytes, cPatternPlanes, imageChunks } from './conv_layout.js';
import { type FuseInput, sameParams, useCounts } from './fuse_base.js';
import { fuseInt, quantBoundary } from './fuse_int.js';
import { qconvPoolBuffers } from './lower_int.js';
import { qwinogradPools } from '../kernels/wasm/qwinograd.js';
import type { AffineStep, BinaryStep, ConvStep, FcStep, PlanStep, PlanTarget, PoolStep, QPoolStep, QuantStep } from './plan_types.js';

export type { FuseInput } from './fuse_base.js';

type Layer = ConvStep | FcStep;

/** The step of one output that makes `value` when that value has one reader, if any. */
function soleProducer(f: FuseInput, uses: Map<string, number>, value: string): PlanStep | undefined {
  if (uses.get(value) !== 1) return undefined;
  const p = f.steps.find((s) => s.outputs.includes(value));
  return p?.outputs.length === 1 ? p : undefined;
}

/** The conv / fc step whose only reader is `step` (through its input `value`), if any. */
function soleLayerProducer(f: FuseInput, uses: Map<string, number>, value: string): Layer | undefined {
  const p = soleProducer(f, uses, value);
  return p?.kind === 'conv' || p?.kind === 'fc' ? p : undefined;
}

function absorb(into: PlanStep, step: PlanStep, label: string): void {
  into.outputs = [...step.outputs];
  into.nodes.push(...step.nodes);
  into.kernel += ` + ${label}`;
}

/** Channels of a layer's output and the stride pattern a per-channel constant has in it. */
function channelAxis(p: Layer): { count: number; axis: number } {
  return p.kind === 'fc' ? { count: p.N, axis: -1 } : { count: p.M, axis: 1 };
}

function perChannel(strides: number[], axis: number): boolean {
  const at = axis < 0 ? strides.length + axis : axis;
  return strides.every((s, i) => (i === at ? s === 1 : s === 0));
}

function fuseBias(f: FuseInput): void {
  const uses = useCounts(f);
  f.steps = f.steps.filter((s) => {
    if (s.kind !== 'binary' || s.fn !== 'Add') return true;
    for (const [mine, other] of [[s.a, s.b], [s.b, s.a]] as const) {
      const c = f.consts.get(other.value);
      const p = soleLayerProducer(f, uses, mine.value);
      if (!c || c.dtype !== 'float32' || !p || p.clamp) continue;
      const { count, axis } = channelAxis(p);
      if (c.size !== count || !perChannel(other.strides, axis) || mine.strides.some((st, i) => st === 0 && s.shape[i] > 1)) continue;
      const bias = new Float32Array(count);
      for (let i = 0; i < count; i++) bias[i] = (p.bias?.[i] ?? 0) + (c.data[i] as number);
      p.bias = bias;
      absorb(p, s, 'bias add');
      return false;
    }
    return true;
  });
}

function foldBatchNorm(f: FuseInput): void {
  const uses = useCounts(f);
  f.steps = f.steps.filter((s) => {
    if (s.kind !== 'affine') return true;
    const p = soleLayerProducer(f, uses, s.inputs[0]);
    if (!p || p.clamp || channelAxis(p).count !== s.C || p.weight.format?.kind === 'codebook') return true;
    if (p.kind === 'fc' && s.inner !== 1) return true;
    foldInto(p, s);
    absorb(p, s, 'batchnorm folded');
    return false;
  });
}

/** W'[c,:] = k[c]·W[c,:], b'[c] = k[c]·b[c] + shift[c]: rows of both layouts ([M, ...] and [N×K]) are channels. */
function foldInto(p: Layer, bn: AffineStep): void {
  const w = p.weight.data, per = w.length / bn.C;
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i] * bn.scale[Math.floor(i / per)];
  p.weight = { ...p.weight, data: out, derived: `${p.weight.derived ? `${p.weight.derived}, ` : ''}BatchNorm folded` };
  const bias = new Float32Array(bn.C);
  for (let c = 0; c < bn.C; c++) bias[c] = (p.bias?.[c] ?? 0) * bn.scale[c] + bn.shift[c];
  p.bias = bias;
}

function fuseActivation(f: FuseInput): void {
  fuseClamp(f, (uses, value) => soleLayerProducer(f, uses, value));
}

/**
 * A Relu / Clip into the float Add / Sub / Mul / Div before it (a residual Add → Relu in one
 * pass); after fuseInt, which makes an 8-bit add of a QDQ Add → Relu → Q.
 */
function fuseBinaryActivation(f: FuseInput): void {
  fuseClamp(f, (uses, value) => {
    const p = soleProducer(f, uses, value);
    return p?.kind === 'binary' ? p : undefined;
  });
}

function fuseClamp(f: FuseInput, producer: (uses: Map<string, number>, value: string) => Layer | BinaryStep | undefined): void {
  const uses = useCounts(f);
  f.steps = f.steps.filter((s) => {
    if (s.kind !== 'clamp') return true;
    const p = producer(uses, s.inputs[0]);
    if (!p || p.clamp) return true;
    p.clamp = [s.lo, s.hi];
    absorb(p, s, clampLabel(s.lo, s.hi));
    return false;
  });
}

/** A clamp as describe() and the C kernels name it. */
export function clampLabel(lo: number, hi: number): string {
  return lo === 0 && hi === Infinity ? 'relu' : `clip [${lo}, ${hi}]`;
}

function fuseQdq(f: FuseInput): void {
  const uses = useCounts(f);
  const drop = new Set<PlanStep>();
  for (const q of f.steps) {
    if (q.kind !== 'quantize' || uses.get(q.outputs[0]) !== 1) continue;
    const d = f.steps.find((s): s is QuantStep => s.kind === 'dequantize' && s.inputs[0] === q.outputs[0]);
    if (!d || !sameParams(q.q, d.q)) continue;
    // The pair becomes one float → float step at the dequantize's place.
    Object.assign(d, { kind: 'fakequant', inputs: [...q.inputs], nodes: [...q.nodes, ...d.nodes], kernel: 'quantize+dequantize', reason: `${q.reason}, fused pair` });
    drop.add(q);
  }
  f.steps = f.steps.filter((s) => !drop.has(s));
}

/**
 * Pools into a conv, one pass for both targets. C: a max / average pool into the conv
 * before it. The conv makes its output a band of rows at a time in scratch and pools
 * it, so the full-size conv output never exists (LeNet-5's first conv: 1.1 KB of band
 * instead of 46 KB); see convBand. WASM: a 2×2 stride-2 max pool (no pads, floor) read
 * only by a pattern conv goes into that conv's pad step: the maxima are written
 * straight into its padded planes.
 */
function fusePool(f: FuseInput): void {
  const uses = useCounts(f);
  f.steps = f.steps.filter((s) => {
    if (s.kind === 'qpool') return !fuseQPool(f, uses, s);
    if (s.kind !== 'pool') return true;
    return !(f.target === 'c' ? poolIntoProducer(f, uses, s) : poolIntoPatternReader(f, uses, s));
  });
}

/**
 * XNOR-Net's BatchNormalization → Sign → binary layer: the affine (one not folded into a
 * layer before it, e.g. after a pool) moves into the packing of every xnor layer reading
 * it through the Sign (an alias), which then reads the affine's input.
 */
function fuseXnorInput(f: FuseInput): void {
  f.steps = f.steps.filter((s) => {
    if (s.kind !== 'affine') return true;
    const v = s.outputs[0], signs = [...f.aliases].filter(([, src]) => src === v).map(([out]) => out), via = new Set([v, ...signs]);
    if ([...via].some((x) => f.outputs.includes(x)) || [...f.aliases.values()].some((src) => src !== v && via.has(src))) return true;
    const readers = f.steps.filter((r) => r.inputs.some((i) => via.has(i)));
    const fits = (r: PlanStep): r is ConvStep | FcStep => (r.kind === 'conv' || r.kind === 'fc') && r.impl === 'xnor' && !r.pre
      && (r.kind === 'conv' ? r.C === s.C && s.inner === r.H * r.W : r.K === s.C && s.inner === 1);
    if (!readers.length || !readers.every(fits)) return true;
    for (const r of readers) {
      r.pre = { scale: s.scale, shift: s.shift };
      r.inputs = r.inputs.map((i) => (via.has(i) ? s.inputs[0] : i));
      r.nodes.unshift(...s.nodes);
      r.kernel += ' + batchnorm on its input';
    }
    for (const out of signs) f.aliases.set(out, s.inputs[0]);
    return false;
  });
}

function poolIntoProducer(f: FuseInput, uses: Map<string, number>, s: PoolStep): boolean {
  const p = soleLayerProducer(f, uses, s.inputs[0]);
  if (!p || p.kind !== 'conv' || p.pool || p.cKernel === 'channels' || p.cKernel === 'winograd' || p.outImageStride !== p.M * p.OH * p.OW) return false;
  if (p.cKernel === 'pattern') { // each band of a filter's output is in its scratch: pooled from there
    if (p.win.sh !== 1) return false; // the stride-2 phase planes take no pool
    p.pool = s;
    p.outImageStride = s.outImageStride;
    p.scratch = cPatternPlanes(p).bytes; // bands that suit the pool
    absorb(p, s, s.kernel);
    return true;
  }
  const band = convBand(p, s);
  if (!band) return false;
  p.pool = s;
  p.band = band;
  p.outImageStride = s.outImageStride;
  p.scratch = band.rows * p.OW * 4;
  absorb(p, s, s.kernel);
  return true;
}

function poolIntoPatternReader(f: FuseInput, uses: Map<string, number>, p: PoolStep): boolean {
  if (uses.get(p.outputs[0]) !== 1) return false;
  const c = f.steps.find((s): s is ConvStep => s.kind === 'conv' && s.inputs[0] === p.outputs[0]);
  const w = p.win;
  if (!c || c.impl !== 'pattern' || c.pattern!.maxPool || c.win.sh !== 1 || !w || p.mode !== 'max' || p.ceil || w.kh !== 2 || w.kw !== 2 || w.sh !== 2 || w.sw !== 2 ||
    w.dh !== 1 || w.dw !== 1 || w.padT || w.padL || w.padB || w.padR || p.outImageStride !== p.C * p.OH * p.OW) return false;
  c.pattern!.maxPool = { H0: p.H, W0: p.W };
  c.inputs = [...p.inputs];
  c.nodes.unshift(...p.nodes);
  c.kernel = `max pool + ${c.kernel}`;
  return true;
}

/**
 * An integer max pool into the integer conv before it. C: each pooled value is the largest of
 * its window's pixels, made on the spot (no scratch). WASM: a 2×2 stride-2 pool into an
 * integer Winograd conv's output transform (kernels/wasm/qwinograd.ts qwinogradPools); any max
 * pool after an im2col conv that runs whole images (one thread, or chunks of images): each image's
 * output goes to a buffer of its scratch set and is pooled from there by the same thread
 * (runtime/steps/qlayer.ts), so the pool shares the conv's threads and finds the values in cache.
 */
function fuseQPool(f: FuseInput, uses: Map<string, number>, s: QPoolStep): boolean {
  const v = s.inputs[0];
  const p = uses.get(v) === 1 && !f.outputs.includes(v) ? f.steps.find((t) => t.outputs.includes(v)) : undefined;
  if (s.mode !== 'max' || p?.kind !== 'qconv' || p.pool || p.outputs.length !== 1 || p.outImageStride !== p.M * p.OH * p.OW) return false;
  if (f.target === 'wasm' && (p.tile !== undefined ? !qwinogradPools(s) : p.split > 1 && !p.layout.byImages)) return false;
  if (f.target === 'wasm' && p.tile === undefined) {
    const b = qconvPoolBuffers(p), l = { ...p.layout, plane: b.image + b.rowbuf };
    p.layout = { ...l, sets: imageChunks(p.N, l) }; // fewer sets when the plane would take them past the cap
    p.scratch = convScratchBytes(p.layout);
  }
  p.pool = s;
  p.outImageStride = s.outImageStride;
  absorb(p, s, s.kernel);
  return true;
}

/** Every fusion pass, in order (bias before activation: MatMul → Add → Relu), and the targets it runs for. */
export const FUSION_PASSES: readonly { name: string; run: (f: FuseInput) => void; only?: PlanTarget }[] = [
  { name: 'fuseBias', run: fuseBias },
  { name: 'foldBatchNorm', run: foldBatchNorm },
  { name: 'fuseActivation', run: fuseActivation },
  { name: 'fuseXnorInput', run: fuseXnorInput },
  { name: 'fuseInt', run: fuseInt },
  { name: 'fuseBinaryActivation', run: fuseBinaryActivation },
  { name: 'quantBoundary', run: quantBoundary, only: 'c' },
  { name: 'fusePool', run: fusePool },
  { name: 'fuseQdq', run: fuseQdq },
];

export function fuse(f: FuseInput): PlanStep[] {
  for (const pass of FUSION_PASSES) if (!pass.only || pass.only === f.target) pass.run(f);
  return f.steps;
}

