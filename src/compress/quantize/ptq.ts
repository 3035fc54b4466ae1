// Post-training quantization of a float graph into its QDQ form (qdq.ts):
//   int8   per-channel symmetric int8 weights (or fewer bits), int8 activations
//          (asymmetric by default) with ranges from calibration (minmax / percentile /
//          entropy on N images), biases on their int32 grids — onnxruntime's quantizer;
//   fixed  dynamic fixed point (the seed's §5.1.3): a power-of-two scale per layer
//          for weights and per tensor for activations, bits-bit two's complement,
//          the fraction length by max-range or min-error (on the calibration histogram).
// BatchNorm is folded first. Quantized activations are the inputs and outputs of the
// quantized layers (an output after its ReLU / Clip); max pooling and reshapes pass
// their input's parameters on, so they run on the integers. --exclude keeps a layer
// float; act16 layers get 16-bit activations.
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { foldBatchNorm } from '../../ir/passes/fold_batchnorm.js';
import { dequantizeValue, intRange, quantizeValue, rangeParams } from '../../ir/quant.js';
import { compressibleLayers, findLayer, type Layer } from '../layers.js';
import { checkCalibrationSet, chooseRange, collectStats, HISTOGRAM_BINS, type CalibrationMethod, type CalibrationSet, type TensorStats } from './calibrate.js';
import { insertQdq, type ActParams, type ActType, type DequantizedNames, type QdqSpec } from './qdq.js';
import { checkWeightBits, chooseFraction, outputAxis, quantizeWeight, type FixedSearch, type WeightQuant } from './weights.js';

export type QuantScheme = 'int8' | 'fixed';

export interface QuantizeOptions {
  scheme: QuantScheme;
  /** Weight bits: int8 2–8 (default 8); fixed 2–16 (32 simulated). */
  bits: number;
  /** Activation bits (fixed: default = bits; int8: always 8, 16 for act16 layers). */
  actBits?: number;
  calibrate?: CalibrationMethod;
  /** int8: symmetric activations (zero point 0) instead of asymmetric. */
  symmetric?: boolean;
  /** int8: one weight scale per output channel (default) or per tensor. */
  perChannel?: boolean;
  /** fixed: fraction length by max-range or min-error (default). */
  search?: FixedSearch;
  /** Layers left float (friendly, weight or node names). */
  exclude?: string[];
  /** Weight bits of single layers (friendly, weight or node names) over `bits`. */
  layerBits?: Record<string, number>;
  /** Layers whose input and output activations are 16-bit. */
  act16?: string[];
}

export interface QuantizedLayer {
  layer: Layer;
  /** The activation tensors it reads and writes (before the QDQ pairs), as quantized. */
  input: string;
  output: string;
}

export interface PtqResult {
  graph: Graph;
  /** The float graph quantized (BatchNorm folded): the error report's reference. */
  float: Graph;
  layers: QuantizedLayer[];
  tensors: Map<string, ActParams>;
  dequantized: DequantizedNames;
}

/** Ops that move values without computing new ones: they take their input's parameters. */
const TRANSPARENT = new Set(['MaxPool', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);
const ACTIVATIONS = new Set(['Relu', 'Clip']);

export function checkQuantizeOptions(o: QuantizeOptions, where: string): void {
  if (o.scheme !== 'int8' && o.scheme !== 'fixed') fail(`${where}: scheme "${String(o.scheme)}" must be int8 or fixed`);
  for (const [name, bits] of [['', o.bits], ...Object.entries(o.layerBits ?? {})] as [string, number][]) {
    const at = name ? `${where}: layer ${name}` : where;
    if (o.scheme === 'int8' && (!Number.isInteger(bits) || bits < 2 || bits > 8)) fail(`${at}: bits=${bits}: int8 weights take 2..8 bits (use --scheme fixed for more)`);
    checkWeightBits(bits, o.scheme === 'int8' ? 'int' : 'fixed', at);
  }
  if (o.actBits !== undefined) checkWeightBits(o.actBits, 'fixed', `${where} (activation bits)`);
}

/** The quantized layers (all compressible layers but the excluded) and the tensors around them. */
function plan(g: Graph, o: QuantizeOptions, where: string): { layers: QuantizedLayer[]; calibrated: Set<string>; inherit: Map<string, string> } {
  const all = compressibleLayers(g);
  const excluded = new Set((o.exclude ?? []).map((k) => findLayer(all, k, `${where}: --exclude`).node.name));
  for (const k of o.act16 ?? []) findLayer(all, k, `${where}: 16-bit activations`);
  const consumers = g.consumers(), outputs = new Set(g.outputs.map((v) => v.name));
  const layers = all.filter((l) => !excluded.has(l.node.name)).map((layer) => {
    let out = layer.node.outputs[0];
    for (let next = consumers.get(out); next?.length === 1 && ACTIVATIONS.has(next[0].op) && !outputs.has(out); next = consumers.get(out)) out = next[0].outputs[0];
    return { layer, input: layer.node.inputs[0], output: out };
  });
  if (layers.length === 0) fail(`${where}: no layer is left to quantize (every Conv / Gemm / MatMul with float weights is excluded)`);
  const calibrated = new Set(layers.flatMap((l) => [l.input, l.output]));
  const inherit = new Map<string, string>();
  for (const n of g.nodes) {
    const x = n.inputs[0];
    if (TRANSPARENT.has(n.op) && (calibrated.has(x) || inherit.has(x))) {
      inherit.set(n.outputs[0], x);
      calibrated.delete(n.outputs[0]);
    }
  }
  return { layers, calibrated, inherit };
}

/** Activation type and bits of a tensor: 16-bit next to an act16 layer. */
function actBits(o: QuantizeOptions, t: string, layers: QuantizedLayer[]): number {
  const wide = new Set(o.act16 ?? []);
  const near = layers.some((l) => (l.input === t || l.output === t) && [l.layer.name, l.layer.weight, l.layer.node.name].some((k) => wide.has(k)));
  return near ? 16 : o.scheme === 'fixed' ? o.actBits ?? o.bits : 8;
}

function intParams(s: TensorStats, o: QuantizeOptions, bits: number): ActParams {
  const dtype: ActType = bits > 8 ? 'int16' : 'int8';
  const [qmin, qmax] = intRange(bits > 8 ? 16 : 8, true, o.symmetric ?? false);
  const [lo, hi] = chooseRange(s, o.calibrate ?? 'minmax', qmax);
  const { scale, zero } = rangeParams(lo, hi, qmin, qmax, o.symmetric ?? false);
  return { scale, zero, dtype };
}

/** Power-of-two scale, zero point 0; the narrower two's-complement range as a clip when the type is wider than the bits. */
function fixedParams(s: TensorStats, o: QuantizeOptions, bits: number): ActParams {
  const dtype: ActType = bits <= 8 ? 'int8' : bits <= 16 ? 'int16' : 'int32';
  const [lo, hi] = intRange(bits, true);
  const absMax = Math.max(-s.min, s.max);
  const fl = chooseFraction(absMax, bits, o.search ?? 'min-error', (f) => histogramError(s, f, lo, hi));
  const scale = 2 ** -fl;
  const typeBits = dtype === 'int8' ? 8 : dtype === 'int16' ? 16 : 32;
  return { scale, zero: 0, dtype, clip: bits < typeBits ? [lo * scale, hi * scale] : undefined };
}

/** Squared error of the |x| histogram (bin centres) on the grid 2^−fl. */
function histogramError(s: TensorStats, fl: number, lo: number, hi: number): number {
  if (!s.hist) return 0;
  const top = Math.max(-s.min, s.max), width = top / HISTOGRAM_BINS, step = 2 ** -fl;
  let e = 0;
  for (let i = 0; i < s.hist.length; i++) {
    if (!s.hist[i]) continue;
    const x = (i + 0.5) * width, d = x - dequantizeValue(quantizeValue(x, step, 0, lo, hi), step, 0);
    e += s.hist[i] * d * d;
  }
  return e;
}

/** How a layer's weight is quantized under the options. */
export function weightSpec(l: QuantizedLayer, o: QuantizeOptions): WeightQuant {
  const axis = outputAxis(l.layer.node);
  const own = Object.entries(o.layerBits ?? {}).find(([k]) => k === l.layer.name || k === l.layer.weight || k === l.layer.node.name)?.[1];
  const bits = own ?? o.bits;
  return o.scheme === 'int8' ? { scheme: 'int', bits, perChannel: o.perChannel ?? true, axis } : { scheme: 'fixed', bits, axis, search: o.search };
}

/** Weights of g on their grids, and biases on the accumulator's grid (input scale × weight scale). */
export function layerWeights(g: Graph, l: QuantizedLayer, o: QuantizeOptions, sx: number): QdqSpec['weights'] {
  const out: QdqSpec['weights'] = new Map();
  const w = g.initializers.get(l.layer.weight)!;
  const q = quantizeWeight(w.data as Float32Array, w.shape, weightSpec(l, o));
  out.set(l.layer.weight, q);
  const b = l.layer.bias && g.initializers.get(l.layer.bias);
  if (b && q.grid) {
    const sw = q.grid.scale, per = b.size === sw.length;
    const values = Float32Array.from(b.data as Float32Array, (v, c) => {
      const s = Math.fround(sx * sw[per ? c : 0]);
      return Math.fround(Math.round(v / s) * s);
    });
    out.set(l.layer.bias!, { values });
  }
  return out;
}

export function quantizeGraph(graph: Graph, o: QuantizeOptions, set: CalibrationSet, where = 'quantize'): PtqResult {
  checkQuantizeOptions(o, where);
  checkCalibrationSet(set, where);
  const float = foldBatchNorm(graph);
  const { layers, calibrated, inherit } = plan(float, o, where);
  const histogram = o.scheme === 'fixed' ? (o.search ?? 'min-error') === 'min-error' : (o.calibrate ?? 'minmax') !== 'minmax';
  const stats = collectStats(float, [...calibrated], set, histogram);
  const tensors = new Map<string, ActParams>();
  for (const [t, s] of stats) tensors.set(t, (o.scheme === 'int8' ? intParams : fixedParams)(s, o, actBits(o, t, layers)));
  for (const [t, src] of inherit) {
    let r = src;
    while (inherit.has(r)) r = inherit.get(r)!;
    tensors.set(t, { ...tensors.get(r)!, clip: undefined }); // its values are already within the source's range
  }
  const weights: QdqSpec['weights'] = new Map();
  for (const l of layers) for (const [k, v] of layerWeights(float, l, o, tensors.get(l.input)!.scale)) weights.set(k, v);
  const { graph: g, dequantized } = insertQdq(float, { weights, tensors });
  g.name = graph.name;
  return { graph: g, float, layers, tensors, dequantized };
}

