// Batch assembly with simple, seeded augmentation: a random shift by up to ±k
// pixels (zero fill) and a random horizontal flip, applied while copying each
// sample into the tape's input buffer (no extra allocation).
import { fail } from '../ir/errors.js';
import type { Rng } from '../ir/random.js';

export interface AugmentOptions {
  /** Max shift in pixels along each axis (0 = off). */
  shift?: number;
  /** Flip left-right with probability 1/2. */
  flip?: boolean;
}

export function checkAugment(a: AugmentOptions): void {
  const s = a.shift ?? 0;
  if (!Number.isInteger(s) || s < 0) fail(`augment shift=${s} must be a whole number of pixels ≥ 0`);
}

/** Copies sample `src` (C×H×W at srcOff in `images`) into `dst` at dstOff, shifted/flipped at random. */
export function copySample(
  images: Float32Array, srcOff: number, dst: Float32Array, dstOff: number,
  C: number, H: number, W: number, aug: AugmentOptions, rng: Rng,
): void {
  const k = aug.shift ?? 0;
  const dy = k > 0 ? rng.int(2 * k + 1) - k : 0;
  const dx = k > 0 ? rng.int(2 * k + 1) - k : 0;
  const flip = aug.flip ? rng.next() < 0.5 : false;
  if (dx === 0 && dy === 0 && !flip) {
    dst.set(images.subarray(srcOff, srcOff + C * H * W), dstOff);
    return;
  }
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const sy = y - dy;
      const row = dstOff + (c * H + y) * W;
      if (sy < 0 || sy >= H) {
        dst.fill(0, row, row + W);
        continue;
      }
      const srow = srcOff + (c * H + sy) * W;
      for (let x = 0; x < W; x++) {
        const sx = (flip ? W - 1 - x : x) - dx;
        dst[row + x] = sx >= 0 && sx < W ? images[srow + sx] : 0;
      }
    }
  }
}
