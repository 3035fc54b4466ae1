// The plain reference GEMM: the oracle the WASM kernel is tested against.
// C[M×N] = op(A)·op(B) (+ C if accumulate) (+ bias), then clamped; row-major,
// accumulated in f64 so that the reference is the more exact side.

export interface GemmOptions {
  /** A is stored K×M (use its transpose). */
  transA?: boolean;
  /** B is stored N×K (use its transpose) — the layout of ONNX Gemm weights with transB=1. */
  transB?: boolean;
  /** Bias added per column (length N, the usual layer bias) or per row (length M, a conv's output channels). */
  bias?: Float32Array;
  biasPer?: 'col' | 'row';
  /** Add the product into C instead of overwriting it. */
  accumulate?: boolean;
  /** Clamp the result: relu = [0, +inf]; clip = [min, max]. */
  relu?: boolean;
  clip?: [min: number, max: number];
}

/** The clamp range the options ask for, or undefined for none. */
export function clampRange(opts: GemmOptions): [number, number] | undefined {
  if (opts.clip) {
    const [lo, hi] = opts.clip;
    return opts.relu ? [Math.max(0, lo), hi] : [lo, hi];
  }
  return opts.relu ? [0, Infinity] : undefined;
}

export function gemmRef(M: number, N: number, K: number, a: Float32Array, b: Float32Array, c: Float32Array,
  opts: GemmOptions = {}): void {
  const range = clampRange(opts);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = opts.accumulate ? c[i * N + j] : 0;
      for (let k = 0; k < K; k++) {
        const av = opts.transA ? a[k * M + i] : a[i * K + k];
        const bv = opts.transB ? b[j * K + k] : b[k * N + j];
        s += av * bv;
      }
      if (opts.bias) s += opts.biasPer === 'row' ? opts.bias[i] : opts.bias[j];
      if (range) s = Math.min(Math.max(s, range[0]), range[1]);
      c[i * N + j] = s;
    }
  }
}
