// Binary and ternary weights as weight transforms for training through the
// straight-through estimator (the float master weights receive the gradient of
// the transformed weights unchanged). Scales are per output channel (axis 0).
import type { WeightTransform } from '../../train/autograd.js';
import { fail } from '../../ir/errors.js';
import { perChannel } from '../per_channel.js';

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
