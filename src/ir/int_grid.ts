// Finding the integer grid a quantizer left float weights on. Importing a QDQ
// model folds DequantizeLinear(int8 weight) into float32 initializers; the int8
// values and their scales are still there exactly: w = q·s with q an integer.
// Symmetric int8 quantizers (onnxruntime's, PyTorch's) map the largest |w| of the
// tensor or of each output channel to 127 (128, or 63/64 with a reduced range).
// A float model that was never quantized does not pass: every weight must sit on
// the grid within 2^-20 of the largest.

/** Largest code of the symmetric int8 ranges quantizers use, most common first. */
const QMAX = [127, 128, 63, 64];
const SLACK = 2 ** -20;

export interface Int8Grid {
  /** w[i] = q[i] · scale[row of i] (row = i / (length / rows)). */
  q: Int8Array;
  /** One scale (per tensor) or one per row. */
  scale: Float32Array;
}

function onGrid(w: Float32Array, from: number, to: number, scale: number, amax: number, q: Int8Array): boolean {
  for (let i = from; i < to; i++) {
    const v = Math.round(w[i] / scale);
    if (v < -128 || v > 127 || Math.abs(v * scale - w[i]) > amax * SLACK) return false;
    q[i] = v;
  }
  return true;
}

function absMax(w: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(w[i]));
  return m;
}

/** The float32 n units in the last place from s (s > 0). */
function ulps(s: number, n: number): number {
  const f = new Float32Array([s]), u = new Uint32Array(f.buffer);
  u[0] += n;
  return f[0];
}

/** Whether q·scale reproduces every weight bit for bit (as DequantizeLinear computed them). */
function exact(w: Float32Array, from: number, to: number, scale: number, q: Int8Array): boolean {
  for (let i = from; i < to; i++) if (Math.fround(q[i] * scale) !== w[i]) return false;
  return true;
}

/**
 * The scale that puts w[from, to) on an int8 grid (filling q), or undefined. The
 * quantizer's own scale is usually within two units in the last place of
 * largest / top; it is taken when it reproduces the weights exactly.
 */
function fit(w: Float32Array, from: number, to: number, q: Int8Array): number | undefined {
  const amax = absMax(w, from, to);
  if (!Number.isFinite(amax)) return undefined;
  if (amax === 0) return 1;
  for (const top of QMAX) {
    const s = Math.fround(amax / top);
    if (!onGrid(w, from, to, s, amax, q)) continue;
    for (const n of [0, -1, 1, -2, 2]) if (exact(w, from, to, ulps(s, n), q)) return ulps(s, n);
    return s;
  }
  return undefined;
}

/** The int8 grid of weights with `rows` output channels: one scale per tensor when it fits, else per row; undefined when off-grid. */
export function findInt8Grid(w: Float32Array, rows: number): Int8Grid | undefined {
  if (w.length === 0 || rows < 1 || w.length % rows !== 0) return undefined;
  const q = new Int8Array(w.length);
  const whole = fit(w, 0, w.length, q);
  if (whole !== undefined) return { q, scale: Float32Array.of(whole) };
  const per = w.length / rows;
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = fit(w, r * per, (r + 1) * per, q);
    if (s === undefined) return undefined;
    scale[r] = s;
  }
  return { q, scale };
}
