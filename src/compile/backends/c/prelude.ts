// The small static inline helpers the emitted kernels share, written into NAME.c
// only when a kernel uses them (with the helpers they use). Layer functions call
// them with constant geometry, so the compiler specialises each call.

interface Helper {
  needs?: string[];
  code: string;
}

const HELPERS: Record<string, Helper> = {
  field: {
    code: `/* Field number k of width w (1..24 bits) of an LSB-first bit stream (arrays end with 3 bytes of padding). */
static inline uint32_t nnz_field(const uint8_t *p, uint32_t k, uint32_t w) {
  const uint32_t bit = k * w;
  const uint8_t *q = p + (bit >> 3);
  const uint32_t v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
  return (v >> (bit & 7u)) & ((1u << w) - 1u);
}`,
  },
  madd: {
    code: `/* a * b + c as one fused instruction where the FPU has one (FP_FAST_FMAF, from <math.h>): ISO C modes
   (-std=c99) never contract a * b + c, so without this an FMA unit does a multiply and an add. */
#if defined(FP_FAST_FMAF)
#define NNZ_MADD(a, b, c) fmaf(a, b, c)
#else
#define NNZ_MADD(a, b, c) ((a) * (b) + (c))
#endif`,
  },
  rint: {
    code: `/* Round to nearest, ties to even, for |v| < 2^22: IEEE addition rounds for us (no libm call).
   Needs float arithmetic in float (FLT_EVAL_METHOD 0, no -ffast-math). */
static inline float nnz_rint(float v) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
  volatile float t = v + 12582912.0f;
  return t - 12582912.0f;
#else
  return (v + 12582912.0f) - 12582912.0f;
#endif
}`,
  },
  quant: {
    needs: ['rint'],
    code: `/* QuantizeLinear of one value: saturate(round_half_even(v / scale) + zero) (ONNX, onnxruntime). */
static inline int32_t nnz_quant(float v, float scale, int32_t zero, int32_t lo, int32_t hi) {
  const float a = (float)(lo - zero), b = (float)(hi - zero);
  float r = v / scale;
  r = r > a ? (r < b ? r : b) : a;
  return (int32_t)nnz_rint(r) + zero;
}`,
  },
  requant: {
    code: `/* The fixed-point requantization of an int32 sum (ir/quant.ts requantizeValue): round(acc * mult / 2^shift),
   ties up, plus the output zero point, saturated to [lo, hi]; >> on int64_t is arithmetic (floor). */
static inline int32_t nnz_requant(int32_t acc, int32_t mult, int shift, int32_t zero, int32_t lo, int32_t hi) {
  const int64_t r = ((int64_t)acc * mult + ((int64_t)1 << (shift - 1))) >> shift;
  const int64_t v = r + zero;
  return v < lo ? lo : v > hi ? hi : (int32_t)v;
}`,
  },
  div_even: {
    code: `/* s / n rounded half to even (an integer average pool, as the runtime's exact mean rounded); 0 when n is 0. */
static inline int32_t nnz_div_even(int32_t s, int n) {
  int32_t q, r;
  if (n == 0) return 0;
  q = s / n; r = s % n;
  if (r < 0) { q--; r += n; }
  if (2 * r > n || (2 * r == n && q % 2 != 0)) q++;
  return q;
}`,
  },
  tap: {
    code: `/* y[r - r0][ow] += w * x[r*sh - pt + i*dh][ow*sw - pl + j*dw] for the output rows r in [r0, r1)
   and columns whose input is inside the H x W plane (zero padding adds nothing). */
static inline void nnz_tap(float *y, const float *x, float w, int i, int j, int r0, int r1,
                           int H, int W, int OW, int sh, int sw, int pt, int pl, int dh, int dw) {
  const int top = i * dh - pt, left = j * dw - pl;
  int a = top >= 0 ? 0 : (-top + sh - 1) / sh, b = H - 1 - top < 0 ? -1 : (H - 1 - top) / sh;
  int c = left >= 0 ? 0 : (-left + sw - 1) / sw, d = W - 1 - left < 0 ? -1 : (W - 1 - left) / sw;
  int r, n;
  if (a < r0) a = r0;
  if (b > r1 - 1) b = r1 - 1;
  if (d > OW - 1) d = OW - 1;
  for (r = a; r <= b; r++) {
    const float *xr = x + (r * sh + top) * W + c * sw + left;
    float *yr = y + (r - r0) * OW + c;
    for (n = 0; n <= d - c; n++) yr[n] += w * xr[n * sw];
  }
}`,
  },
};

/**
 * Pooled row \`oh\` of a plane (H x W, of which the rows from r0 on are held at x): the max
 * (or, for float, the average with ONNX's divisor) over each window, as ir/ref/pool.ts.
 */
function poolRow(type: string): Helper {
  const float = type === 'float';
  const lowest = float ? '-HUGE_VALF' : type === 'uint8_t' ? '0' : '(-128)';
  const count = '(count_pad ? padded : valid)';
  const avg = float ? `avg ? sum / (float)${count} : ` : `avg ? (${type})nnz_div_even(sum, ${count}) : `;
  const sumType = float ? 'float' : 'int32_t';
  return {
    needs: float ? [] : ['div_even'],
    code: `static inline void nnz_pool_row_${type}(${type} *y, const ${type} *x, int r0, int oh, int avg, int count_pad,
    int H, int W, int OW, int KH, int KW, int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw) {
  int ow, kh, kw;
  for (ow = 0; ow < OW; ow++) {
    const int h0 = oh * sh - pt, w0 = ow * sw - pl;
    ${type} best = 0;
    ${sumType} sum = 0;
    int valid = 0, padded = 0;
    for (kh = 0; kh < KH; kh++) {
      const int ih = h0 + kh * dh;
      const int hin = ih >= 0 && ih < H, hpad = ih >= -pt && ih < H + pb;
      for (kw = 0; kw < KW; kw++) {
        const int iw = w0 + kw * dw;
        ${type} v;
        if (hpad && iw >= -pl && iw < W + pr) padded++;
        if (!hin || iw < 0 || iw >= W) continue;
        v = x[(ih - r0) * W + iw];
        if (valid == 0 || v > best) best = v;
        sum += (${sumType})v;
        valid++;
      }
    }
    (void)avg; (void)count_pad; (void)sum; (void)padded;
    y[ow] = ${avg}(valid ? best : ${lowest});
  }
}`,
  };
}

/** Helpers made per element type: \`pool_row:float\`. */
const TYPED: Record<string, (type: string) => Helper> = { pool_row: poolRow };

function helper(name: string): Helper {
  const [base, type] = name.split(':');
  const h = type ? TYPED[base]?.(type) : HELPERS[name];
  if (!h) throw new Error(`C backend: no helper "${name}"`);
  return h;
}

/** The helpers to write for `used`, dependencies first, each once, in a stable order. */
export function preludeFor(used: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const h = helper(name);
    for (const d of h.needs ?? []) visit(d);
    out.push(h.code, '');
  };
  for (const name of [...used].sort()) visit(name);
  return out;
}
