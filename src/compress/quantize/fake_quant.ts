// Fake quantization as a weight transform (quantization-aware training: the
// forward pass sees the quantized weights, the float master gets the gradient).
import type { WeightTransform } from '../../train/autograd.js';
import { fail } from '../../ir/errors.js';
import { perChannel } from '../per_channel.js';

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
