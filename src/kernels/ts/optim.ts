// Optimizer updates with PyTorch's rules (see src/train/optim.ts), on float32
// arrays: the JS path of the optimizers, and the reference of the WASM update
// kernels (kernels/wasm/optim_codegen.ts). One loop per variant: branch-free
// inner loops run several times faster in V8.

export function sgdPlain(w: Float32Array, g: Float32Array, lr: number, wd: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + wd * w[i]);
}

/** The first momentum step: buf = g (PyTorch), so the update equals plain SGD plus the Nesterov term. */
export function sgdFirst(w: Float32Array, g: Float32Array, buf: Float32Array, lr: number, mu: number, wd: number, nesterov: boolean): void {
  for (let i = 0; i < w.length; i++) buf[i] = g[i] + wd * w[i];
  for (let i = 0; i < w.length; i++) w[i] -= lr * (nesterov ? (1 + mu) * buf[i] : buf[i]);
}

export function sgdMomentum(w: Float32Array, g: Float32Array, buf: Float32Array, lr: number, mu: number, damp: number, wd: number): void {
  for (let i = 0; i < w.length; i++) {
    const b = mu * buf[i] + damp * (g[i] + wd * w[i]);
    buf[i] = b;
    w[i] -= lr * b;
  }
}

export function sgdNesterov(w: Float32Array, g: Float32Array, buf: Float32Array, lr: number, mu: number, wd: number): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + wd * w[i];
    const b = mu * buf[i] + gi;
    buf[i] = b;
    w[i] -= lr * (gi + mu * b);
  }
}

export function adamUpdate(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, b1: number, b2: number,
  eps: number, wd: number, decoupled: boolean, ic1: number, ic2: number): void {
  const shrink = decoupled ? 1 - lr * wd : 1;
  const l2 = decoupled ? 0 : wd;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i] * shrink;
    const gi = g[i] + l2 * wi;
    const mi = b1 * m[i] + (1 - b1) * gi;
    const vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - (lr * mi * ic1) / (Math.sqrt(vi * ic2) + eps);
  }
}
