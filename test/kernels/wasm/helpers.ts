// Test helpers for the WASM kernels: a closeness check whose failure message
// names the case, the shape and the first bad index, and the tile-edge sizes.
import assert from 'node:assert/strict';

/** Asserts |actual - expected| <= tol(expected) everywhere; `where(i)` renders an index (e.g. "(row 3, col 7)"). */
export function assertClose(actual: Float32Array, expected: ArrayLike<number>, tol: (expected: number) => number, what: string,
  where: (i: number) => string = (i) => `[${i}]`): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!(Math.abs(a - e) <= tol(e)) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e) {
      assert.fail(`${what}: at ${where(i)} got ${a}, expected ${e} (diff ${Math.abs(a - e)}, tolerance ${tol(e)})`);
    }
  }
}

/** Row-major matrix index renderer. */
export function rc(cols: number): (i: number) => string {
  return (i) => `(row ${Math.floor(i / cols)}, col ${i % cols})`;
}

/** NCHW index renderer. */
export function nchw(C: number, H: number, W: number): (i: number) => string {
  return (i) => {
    const w = i % W, h = Math.floor(i / W) % H, c = Math.floor(i / (W * H)) % C, n = Math.floor(i / (W * H * C));
    return `(n ${n}, c ${c}, h ${h}, w ${w})`;
  };
}

/** Sizes around a tile: 1, t-1, t, t+1, 2t+3 (deduplicated, positive). */
export function edgeSizes(t: number): number[] {
  return [...new Set([1, t - 1, t, t + 1, 2 * t + 3])].filter((s) => s >= 1);
}
