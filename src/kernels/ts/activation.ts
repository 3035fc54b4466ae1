// Activations forward and backward on whole arrays: Clip (Relu = Clip(0, +∞)),
// as the trainer's TypeScript backend runs it and the reference of the WASM
// clamp kernels, and LeakyRelu.

/** y = min(max(x, lo), hi). */
export function clip(x: Float32Array, y: Float32Array, lo: number, hi: number): void {
  // Math.max/min compile branch-free: random signs would mispredict a select (and NaN propagates).
  if (hi === Infinity) for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i], lo);
  else for (let i = 0; i < x.length; i++) y[i] = Math.min(Math.max(x[i], lo), hi);
}

/** dx += dy where lo < x < hi. */
export function clipBack(x: Float32Array, dy: Float32Array, dx: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < x.length; i++) if (x[i] > lo && x[i] < hi) dx[i] += dy[i];
}

/** y = x ≥ 0 ? x : slope·x. */
export function leakyRelu(x: Float32Array, y: Float32Array, slope: number): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] >= 0 ? x[i] : slope * x[i];
}

/** dx += x ≥ 0 ? dy : slope·dy. */
export function leakyReluBack(x: Float32Array, dy: Float32Array, dx: Float32Array, slope: number): void {
  for (let i = 0; i < x.length; i++) dx[i] += x[i] >= 0 ? dy[i] : slope * dy[i];
}
