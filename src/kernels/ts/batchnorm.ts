// BatchNorm's plane kernels for the trainer: per-plane sums (batch statistics
// and gradient sums) and per-channel affine maps (apply and backward). The
// trainer's TypeScript backend runs these; the WASM twins
// (kernels/wasm/batchnorm_codegen.ts) are tested against them.

/** s1[p] = Σ a, s2[p] = Σ (a − ca[c])·(b − cb[c]) over each H×W plane p (channel c = p mod C). */
export function planeStats(a: Float32Array, b: Float32Array, planes: number, C: number, HW: number, ca: Float32Array, cb: Float32Array, s1: Float32Array, s2: Float32Array): void {
  for (let p = 0; p < planes; p++) {
    const c = p % C;
    const oa = ca[c];
    const ob = cb[c];
    let t1 = 0;
    let t2 = 0;
    for (let i = p * HW, e = i + HW; i < e; i++) {
      t1 += a[i];
      t2 += (a[i] - oa) * (b[i] - ob);
    }
    s1[p] = t1;
    s2[p] = t2;
  }
}

/** out (+= when acc) ka[c]·a + kb[c]·b + k0[c] over each plane. */
export function planeLinear(a: Float32Array, b: Float32Array, out: Float32Array, planes: number, C: number, HW: number, ka: Float32Array, kb: Float32Array, k0: Float32Array, acc: boolean): void {
  for (let p = 0; p < planes; p++) {
    const c = p % C;
    const u = ka[c];
    const w = kb[c];
    const z = k0[c];
    const e = (p + 1) * HW;
    if (acc) for (let i = p * HW; i < e; i++) out[i] += u * a[i] + w * b[i] + z;
    else for (let i = p * HW; i < e; i++) out[i] = u * a[i] + w * b[i] + z;
  }
}
