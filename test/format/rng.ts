// Seeded test data (mulberry32 via src/ir/random.ts): same seed, same numbers, on every machine.
import { Rng } from '../../src/ir/random.js';

export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/** Roughly normal(0, scale) float32 weights with a fraction `density` nonzero. */
export function sparseWeights(r: () => number, n: number, density: number, scale = 0.1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (r() >= density) continue;
    const g = (r() + r() + r() + r() - 2) * scale * 1.7;
    out[i] = g === 0 ? scale : g;
  }
  return out;
}

/** Float32 bit patterns, for bit-exact comparisons (−0, NaN payloads). */
export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

export const SIZES = [0, 1, 7, 1000];
