// The project's seeded PRNG (src/ir/random.ts, mulberry32) plus the in-place
// fill the trainer uses for initialization and tests.
import { Rng as BaseRng } from '../ir/random.js';

export class Rng extends BaseRng {
  /** Fills `out` with uniform values in [lo, hi). */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }
}
