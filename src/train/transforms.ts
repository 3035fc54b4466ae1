// Ready-made WeightTransforms for quantization-aware training (used with the
// straight-through estimator: the float master weights receive the gradient of
// the transformed weights unchanged). Scales are per output channel (axis 0).
import type { WeightTransform } from './autograd.js';
import { fail } from '../ir/errors.js';

/** Calls fn(start, end) for each output channel's contiguous slice. */
function perChannel(shape: readonly number[], n: number, fn: (start: number, end: number) => void): void {
  const channels = shape.length > 1 ? shape[0] : 1;
  const per = n / channels;
  for (let c = 0; c < channels; c++) fn(c * per, (c + 1) * per);
}

/** BWN (Rastegari et al. 2016): w_b = α·sign(w), α = mean |w| of the channel. */
export function binarize(): WeightTransform {
  return {
    name: 'binarize',
    forward(w, out, shape) {
      perChannel(shape, w.length, (s, e) => {
        let sum = 0;
        for (let i = s; i < e; i++) sum += Math.abs(w[i]);
        const alpha = sum / Math.max(1, e - s);
        for (let i = s; i < e; i++) out[i] = w[i] >= 0 ? alpha : -alpha;
      });
    },
  };
}

/** TWN (Li & Liu 2016): Δ = factor·mean |w|; w_t = α·sign(w) where |w| > Δ else 0; α = mean |w| over |w| > Δ. */
export function ternarize(factor = 0.7): WeightTransform {
  if (!(factor > 0)) fail(`ternarize: factor=${factor} must be > 0 (the paper uses 0.7)`);
  return {
    name: 'ternarize',
    forward(w, out, shape) {
      perChannel(shape, w.length, (s, e) => {
        let sum = 0;
        for (let i = s; i < e; i++) sum += Math.abs(w[i]);
        const delta = (factor * sum) / Math.max(1, e - s);
        let big = 0;
        let count = 0;
        for (let i = s; i < e; i++) if (Math.abs(w[i]) > delta) { big += Math.abs(w[i]); count++; }
        const alpha = count > 0 ? big / count : 0;
        for (let i = s; i < e; i++) out[i] = Math.abs(w[i]) > delta ? (w[i] > 0 ? alpha : -alpha) : 0;
      });
    },
  };
}

/** Symmetric fake quantization: scale = max |w| / (2^(bits−1) − 1) per channel; out = round(w/scale)·scale. */
export function fakeQuantize(bits: number): WeightTransform {
  if (!Number.isInteger(bits) || bits < 2 || bits > 16) fail(`fakeQuantize: bits=${bits} must be an integer in 2..16`);
  const qmax = 2 ** (bits - 1) - 1;
  return {
    name: `fake-quantize(${bits})`,
    forward(w, out, shape) {
      perChannel(shape, w.length, (s, e) => {
        let m = 0;
        for (let i = s; i < e; i++) m = Math.max(m, Math.abs(w[i]));
        const scale = m > 0 ? m / qmax : 1;
        for (let i = s; i < e; i++) out[i] = Math.round(w[i] / scale) * scale;
      });
    },
  };
}
