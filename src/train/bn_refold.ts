// BatchNorm re-introduced for fine-tuning ("refold"): models exported for
// inference have their BatchNorms folded into the convs, so fine-tuning them
// trains a BN-free network. insertBatchNorms builds a training model that shares
// every Param (masks, transforms and loss terms included) with the original and
// puts a BatchNormalization after each Conv that has none, initialised from the
// conv's output statistics on calibration images so that in eval mode it is the
// identity: running mean μ and variance σ² of the channel, γ = √(σ² + ε), β = μ.
// Training then normalises with batch statistics. foldBatchNorms writes each BN
// (eval mode, running statistics) back into its conv:
//   k = γ / √(σ²_run + ε);  W[o,…] ← k[o]·W[o,…];  b[o] ← k[o]·(b[o] − μ_run[o]) + β[o]
// (the arithmetic of ir/passes/fold_batchnorm.ts: bnScale, bnShift)
// A per-output-channel scale keeps every zero, so masks, patterns and
// connectivity stay exact. Convs without a bias, with a weight transform
// (binarize, fake quantization) or a gradient transform (weight sharing: a
// per-channel scale would split the shared centroids) are left without BN.
import type { Graph, Node } from '../ir/graph.js';
import { fail } from '../ir/errors.js';
import { bnScale, bnShift } from '../ir/passes/fold_batchnorm.js';
import { Tensor } from '../ir/tensor.js';
import { Param } from './autograd.js';
import { Model } from './model.js';

export const REFOLD_EPS = 1e-5;
/** ONNX momentum: running = m·running + (1 − m)·batch (PyTorch's momentum 0.1). */
export const REFOLD_MOMENTUM = 0.9;

export interface RefoldLayer {
  conv: string;
  weight: string;
  bias: string;
  /** The conv's output before the BN (the BN writes the conv's old output name). */
  pre: string;
  gamma: string;
  beta: string;
  mean: string;
  variance: string;
}

export interface Refold {
  /** The training model: the original's Params plus each BN's γ and β. */
  model: Model;
  layers: RefoldLayer[];
  /** Convs left without BN, with the reason. */
  skipped: { conv: string; reason: string }[];
}

export interface CalibrationImages {
  images: Float32Array;
  count: number;
}

/** Why a conv gets no BN, or undefined when it gets one. */
function skipReason(model: Model, node: Node, consumers: Map<string, Node[]>): string | undefined {
  const [, w, b] = node.inputs;
  const users = consumers.get(node.outputs[0]) ?? [];
  if (users.length > 0 && users.every((u) => u.op === 'BatchNormalization')) return 'already followed by a BatchNormalization';
  const wp = w ? model.params.get(w) : undefined;
  if (!wp) return 'its weight is not a trained parameter';
  const bp = b ? model.params.get(b) : undefined;
  if (!bp) return 'it has no bias to fold the BN shift into';
  for (const p of [wp, bp]) {
    if (p.transform) return `"${p.name}" has a weight transform (${p.transform.name})`;
    if (p.gradTransform) return `"${p.name}" has a gradient transform (${p.gradTransform.name}); a per-channel scale would change it`;
  }
  return undefined;
}

/**
 * The training model with a BN after every Conv that can take one, the BNs
 * calibrated on `calib` (eval mode: the model computes the original's function).
 */
export function insertBatchNorms(model: Model, calib: CalibrationImages, opts: { seed?: number; batch?: number } = {}): Refold {
  if (!(calib.count >= 1)) fail(`BatchNorm refold: needs at least one calibration image, got ${calib.count}`);
  const g: Graph = model.graph.clone();
  const consumers = g.consumers();
  const params = new Map(model.params);
  const buffers = new Map(model.buffers);
  const layers: RefoldLayer[] = [];
  const skipped: Refold['skipped'] = [];
  const nodes: Node[] = [];
  for (const node of g.nodes) {
    nodes.push(node);
    if (node.op !== 'Conv') continue;
    const why = skipReason(model, node, consumers);
    if (why) {
      skipped.push({ conv: node.name, reason: why });
      continue;
    }
    const [, weight, bias] = node.inputs;
    const O = model.param(weight).shape[0];
    const base = `${weight}.bn_refold`;
    const l: RefoldLayer = {
      conv: node.name, weight, bias, pre: `${node.outputs[0]}.pre_bn`,
      gamma: `${base}.gamma`, beta: `${base}.beta`, mean: `${base}.mean`, variance: `${base}.var`,
    };
    for (const n of [l.gamma, l.beta, l.mean, l.variance]) if (g.initializers.has(n) || params.has(n)) fail(`BatchNorm refold: the name "${n}" is already taken`);
    // identity until calibrated (γ = 1, β = 0, μ = 0, σ² + ε = 1)
    const init = { [l.gamma]: 1, [l.beta]: 0, [l.mean]: 0, [l.variance]: 1 - REFOLD_EPS };
    for (const [n, v] of Object.entries(init)) g.initializers.set(n, new Tensor('float32', [O], new Float32Array(O).fill(v)));
    params.set(l.gamma, new Param(l.gamma, [O], new Float32Array(O).fill(1)));
    params.set(l.beta, new Param(l.beta, [O], new Float32Array(O)));
    buffers.set(l.mean, new Float32Array(O));
    buffers.set(l.variance, new Float32Array(O).fill(1 - REFOLD_EPS));
    const out = node.outputs[0];
    node.outputs = [l.pre, ...node.outputs.slice(1)];
    nodes.push({
      name: `${node.name}.bn_refold`, op: 'BatchNormalization', inputs: [l.pre, l.gamma, l.beta, l.mean, l.variance], outputs: [out],
      attrs: { epsilon: REFOLD_EPS, momentum: REFOLD_MOMENTUM },
    });
    layers.push(l);
  }
  g.nodes = nodes;
  const bn = new Model(g, params, buffers, { input: model.inputName, output: model.outputName, sampleShape: model.sampleShape }, { backend: model.backend, seed: opts.seed });
  for (const t of model.lossTerms) bn.addLossTerm(t);
  calibrate(bn, layers, calib, opts.batch ?? 64);
  return { model: bn, layers, skipped };
}

/** Sets each BN's running μ, σ² to its input's per-channel statistics on the images, γ = √(σ² + ε), β = μ. */
function calibrate(bn: Model, layers: readonly RefoldLayer[], calib: CalibrationImages, batchSize: number): void {
  if (!layers.length) return;
  bn.refreshWeights();
  const per = bn.sampleShape.reduce((a, b) => a * b, 1);
  const bt = bn.tape(Math.min(batchSize, calib.count), false);
  const sums = layers.map((l) => ({ s: new Float64Array(bn.param(l.gamma).size), q: new Float64Array(bn.param(l.gamma).size), n: 0 }));
  for (let start = 0; start < calib.count; start += bt.batch) {
    const n = Math.min(bt.batch, calib.count - start);
    bt.input.data.set(calib.images.subarray(start * per, (start + n) * per));
    bn.run(bt, false);
    layers.forEach((l, i) => {
      const v = bt.values.get(l.pre) ?? fail(`BatchNorm refold: no value "${l.pre}" in the tape`);
      const [, C] = v.shape;
      const hw = v.size / (bt.batch * C);
      const acc = sums[i];
      for (let b = 0; b < n; b++) {
        for (let c = 0; c < C; c++) {
          let s = 0, q = 0;
          for (let k = (b * C + c) * hw, e = k + hw; k < e; k++) {
            const x = v.data[k];
            s += x;
            q += x * x;
          }
          acc.s[c] += s;
          acc.q[c] += q;
        }
      }
      acc.n += n * hw;
    });
  }
  layers.forEach((l, i) => {
    const { s, q, n } = sums[i];
    const mean = bn.buffers.get(l.mean)!, vr = bn.buffers.get(l.variance)!;
    const gamma = bn.param(l.gamma).master, beta = bn.param(l.beta).master;
    for (let c = 0; c < mean.length; c++) {
      const m = s[c] / n;
      const v = Math.max(0, q[c] / n - m * m);
      mean[c] = m;
      vr[c] = v;
      gamma[c] = Math.sqrt(vr[c] + REFOLD_EPS);
      beta[c] = m;
    }
  });
  bn.refreshWeights();
}

/** Folds every BN of the refold into its conv's weight and bias (the original model's Params), in place. */
export function foldBatchNorms(r: Refold): void {
  const m = r.model;
  for (const l of r.layers) {
    const w = m.param(l.weight), b = m.param(l.bias);
    const gamma = m.param(l.gamma).master, beta = m.param(l.beta).master;
    const mean = m.buffers.get(l.mean)!, vr = m.buffers.get(l.variance)!;
    const O = gamma.length, per = w.size / O;
    const k = bnScale(gamma, vr, REFOLD_EPS); // the ε insertBatchNorms gave every BN
    for (let o = 0; o < O; o++) {
      for (let i = o * per, e = i + per; i < e; i++) w.master[i] *= k[o];
      b.master[o] = bnShift(k[o], b.master[o], mean[o], beta[o]);
    }
    if (w.mask) for (let i = 0; i < w.size; i++) if (!w.mask[i]) w.master[i] = 0; // -0 from a negative scale → 0
  }
  m.refreshWeights();
}
