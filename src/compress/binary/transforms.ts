// Binary and ternary weights as weight transforms, trained through the clipped
// straight-through estimator: the float master weights receive the gradient of
// the transformed weights, except where |w| > clip (BinaryConnect, Larq's
// ste_sign). Scales are per output channel along `axis` (0 for conv and Gemm
// transB=1 weights, 1 for [K, N] MatMul weights), computed over the weights that
// are not exactly 0 so that a pruned layer's zeros (kept by its mask) do not
// shrink them; TTQ's two scales are trained parameters of their own.
import type { Param, WeightTransform } from '../../train/autograd.js';
import { axisLayout } from '../../ir/binary.js';
import { fail } from '../../ir/errors.js';

/** Latent weights beyond this magnitude get no gradient (the STE's clipping). */
export const WEIGHT_STE_CLIP = 1;

/** The paper values: TWN's Δ = 0.7·mean|W|, TTQ's threshold t = 0.05 (of max|W|). */
export const TWN_DELTA = 0.7;
export const TTQ_THRESHOLD = 0.05;

interface Channels { inner: number; count: number }

function channels(shape: readonly number[], axis: number, what: string): Channels {
  const lay = axisLayout(shape, axis);
  if (typeof lay === 'string') fail(`${what}: ${lay} of the weight [${shape.join(',')}]`);
  return lay;
}

/** Per channel: Σ|w| and the count over the nonzero weights (|w| > above when given). */
function absMeans(w: Float32Array, ch: Channels, above?: Float32Array): Float32Array {
  const sum = new Float64Array(ch.count), n = new Float64Array(ch.count);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / ch.inner) % ch.count, a = Math.abs(w[i]);
    if (a > (above ? above[c] : 0)) { sum[c] += a; n[c]++; }
  }
  return Float32Array.from(sum, (s, c) => (n[c] ? s / n[c] : 0));
}

function clipGrad(w: Float32Array, g: Float32Array): void {
  for (let i = 0; i < g.length; i++) if (Math.abs(w[i]) > WEIGHT_STE_CLIP) g[i] = 0;
}

/** BWN (Rastegari et al. 2016): w_b = α·sign(w), α = mean |w| of the channel. */
export function binarize(axis = 0): WeightTransform {
  return {
    name: 'binarize',
    forward(w, out, shape) {
      const ch = channels(shape, axis, 'binarize');
      const alpha = absMeans(w, ch);
      for (let i = 0; i < w.length; i++) {
        const a = alpha[Math.floor(i / ch.inner) % ch.count];
        out[i] = w[i] >= 0 ? a : -a;
      }
    },
    backward: clipGrad,
  };
}

/** TWN's Δ factor must lie here: beyond it Δ exceeds most weights and the layer empties. */
export function checkTwnDelta(factor: number, where: string): void {
  if (!(factor > 0 && factor <= 1.5)) fail(`${where}: TWN threshold factor ${factor} must be in (0, 1.5] (Δ = factor·mean|W|; the paper uses ${TWN_DELTA})`);
}

/** TWN (Li & Liu 2016): Δ = factor·mean |w|; w_t = α·sign(w) where |w| > Δ, else 0; α = mean |w| over |w| > Δ. */
export function ternarize(factor = TWN_DELTA, axis = 0): WeightTransform {
  checkTwnDelta(factor, 'ternarize');
  return {
    name: 'ternarize',
    forward(w, out, shape) {
      const ch = channels(shape, axis, 'ternarize');
      const delta = absMeans(w, ch).map((m) => factor * m);
      const alpha = absMeans(w, ch, delta);
      for (let i = 0; i < w.length; i++) {
        const c = Math.floor(i / ch.inner) % ch.count;
        out[i] = Math.abs(w[i]) > delta[c] ? (w[i] > 0 ? alpha[c] : -alpha[c]) : 0;
      }
    },
    backward: clipGrad,
  };
}

export function checkTtqThreshold(t: number, where: string): void {
  if (!(t > 0 && t < 1)) fail(`${where}: TTQ threshold t=${t} must be in (0, 1) (Δ = t·max|W|; the paper uses ${TTQ_THRESHOLD})`);
}

/**
 * TTQ (Zhu et al. 2017): Δ = t·max|w| over the layer; w_t = Wp where w > Δ, −Wn
 * where w < −Δ, else 0. Wp and Wn live in `scales` (a Param of 2 values the
 * optimizer trains). Their gradients are the paper's sums over the positive
 * (resp. negative) set divided by the set's size: the sum over a layer of 10^5
 * weights makes an SGD step that throws the scales far past their sign (measured
 * on LeNet-5: loss 10^4 after 10 steps at lr 0.01). Levels below 0 count as 0.
 * The latent weights get ∂L/∂w_t scaled by Wp, 1 or Wn.
 */
export function trainedTernary(scales: Param, t = TTQ_THRESHOLD): WeightTransform {
  checkTtqThreshold(t, 'ttq');
  if (scales.size !== 2) fail(`ttq: the scales parameter "${scales.name}" must hold 2 values (Wp, Wn), not ${scales.size}`);
  const delta = (w: Float32Array): number => {
    let m = 0;
    for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]));
    return t * m;
  };
  const levels = (): [number, number] => [Math.max(0, scales.master[0]), Math.max(0, scales.master[1])];
  return {
    name: 'ttq',
    forward(w, out) {
      const d = delta(w), [wp, wn] = levels();
      // 0 − wn: a level of 0 gives +0, never −0 (the .nnz levels hold no −0)
      for (let i = 0; i < w.length; i++) out[i] = w[i] > d ? wp : w[i] < -d ? 0 - wn : 0;
    },
    backward(w, g) {
      const d = delta(w), [wp, wn] = levels();
      let gp = 0, gn = 0, np = 0, nn = 0;
      for (let i = 0; i < w.length; i++) {
        if (w[i] > d) { gp += g[i]; np++; g[i] *= wp; } else if (w[i] < -d) { gn -= g[i]; nn++; g[i] *= wn; }
      }
      if (np) scales.grad[0] += gp / np;
      if (nn) scales.grad[1] += gn / nn;
      clipGrad(w, g);
    },
  };
}

/** TTQ's starting scales: the mean magnitude of the weights above Δ on each side. */
export function ttqInitialScales(w: Float32Array, t = TTQ_THRESHOLD): Float32Array {
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]));
  const d = t * m;
  let sp = 0, np = 0, sn = 0, nn = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] > d) { sp += w[i]; np++; } else if (w[i] < -d) { sn -= w[i]; nn++; }
  }
  return Float32Array.of(np ? sp / np : d, nn ? sn / nn : d);
}
