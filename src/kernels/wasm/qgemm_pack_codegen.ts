// The integer GEMM's B panels packed straight from a conv's input image (im2col fused
// with packB, qgemm_codegen.ts): column j of B is output pixel P0 + j, row k = (c, ki, kj)
// of the window, the value x[c][oh·sh + ki·dh][ow·sw + kj·dw]. Only for windows without
// padding (every window inside the image, no padding value to write): the pixels of 8
// (or 4) columns that lie on one output row at stride 1 are consecutive bytes of an input
// row, one 8-byte load per row k; other column groups (across output rows, strided, past
// the last column) gather their bytes one lane at a time. Rows 2q and 2q+1 are interleaved
// and widened to i16 pairs as packB does; the patch matrix of im2col8 is never written.
import { FuncBuilder, Local } from './emitter.js';
import { V128 } from './opcodes.js';

/**
 * Stores rows 2q and 2q + 1 of `width` (8 or 4) columns of a B panel, given as i8 in v0 and
 * v1, at column `at` of the panel's pair row d: interleaved into pairs, widened to i16.
 */
export function storePairs(f: FuncBuilder, d: Local, v0: Local, v1: Local, width: number, at: number): void {
  const lanes: number[] = [];
  for (let e = 0; e < 8; e++) lanes.push(e, 16 + e);
  f.get(d).get(v0).get(v1).shuffle(lanes).op('i16x8.extend_low_i8x16_s').mem('v128.store', at * 4);
  if (width === 8) f.get(d).get(v0).get(v1).shuffle(lanes).op('i16x8.extend_high_i8x16_s').mem('v128.store', at * 4 + 16);
}

/**
 * (x, C, H, W, kh, kw, sh, sw, dh, dw, OW, P0, cols, dst, xor): panels of `nr` columns for
 * output pixels P0 .. P0 + cols of one image (its C planes at x), K = C·kh·kw rows.
 */
export function emitPackConv(f: FuncBuilder, nr: number): void {
  const [x, C, H, W, kh, kw, sh, sw, dh, dw, OW, P0, cols, dst, xor] = f.params;
  const K = f.local(), kp = f.local(), pairs = f.local(), j0 = f.local(), q = f.local(), d = f.local(), P = f.local(), base = f.local();
  const off = f.local(), ki = f.local(), kj = f.local(), rowStep = f.local(), planeStep = f.local(), contiguous = f.local();
  const mask = f.local(V128), v0 = f.local(V128), v1 = f.local(V128);
  const pix = Array.from({ length: 8 }, () => f.local());
  f.get(xor).if(() => { f.i32(0x80).op('i8x16.splat').set(mask); });
  f.get(C).get(kh).op('i32.mul').get(kw).op('i32.mul').set(K);
  f.get(K).i32(1).op('i32.add').i32(1).op('i32.shr_u').set(kp);
  f.get(K).i32(1).op('i32.shr_u').set(pairs);
  // window offsets: kj steps dw; past the last kj one row on (dh·W) back to kj = 0; past the last ki the next plane
  f.get(dh).get(W).op('i32.mul').get(kw).get(dw).op('i32.mul').op('i32.sub').set(rowStep);
  f.get(H).get(W).op('i32.mul').get(kh).get(dh).op('i32.mul').get(W).op('i32.mul').op('i32.sub').set(planeStep);
  /** Emits off = the offset of window row k + 1 from that of row k. */
  const nextK = (): void => {
    f.get(off).get(dw).op('i32.add').set(off);
    f.get(kj).i32(1).op('i32.add').tee(kj).get(kw).op('i32.eq').if(() => {
      f.i32(0).set(kj);
      f.get(off).get(rowStep).op('i32.add').set(off);
      f.get(ki).i32(1).op('i32.add').tee(ki).get(kh).op('i32.eq').if(() => {
        f.i32(0).set(ki);
        f.get(off).get(planeStep).op('i32.add').set(off);
      });
    });
  };
  /** v = window row k's bytes of the `width` columns (one load, or a gather through pix). */
  const load = (v: Local, width: number, fast: boolean): void => {
    if (fast) {
      f.get(base).get(off).op('i32.add').mem(width === 8 ? 'v128.load64_zero' : 'v128.load32_zero').get(mask).op('v128.xor').set(v);
      return;
    }
    f.i32(0).op('i8x16.splat').set(v);
    for (let j = 0; j < width; j++) f.get(pix[j]).get(off).op('i32.add').get(v).memLane('v128.load8_lane', 0, j).set(v);
    f.get(v).get(mask).op('v128.xor').set(v);
  };
  const store = (width: number, at: number): void => storePairs(f, d, v0, v1, width, at);
  /** All pairs of one column group: rows 2q, 2q + 1 interleaved (the odd last row with zeros). */
  const pairsOf = (width: number, at: number, fast: boolean): void => {
    f.i32(0).set(off).i32(0).set(ki).i32(0).set(kj);
    f.forUp(q, 0, pairs, 1, () => {
      load(v0, width, fast); nextK();
      load(v1, width, fast); nextK();
      store(width, at);
      f.addTo(d, nr * 4);
    });
    f.get(K).i32(1).op('i32.and').if(() => {
      load(v0, width, fast);
      f.i32(0).op('i8x16.splat').set(v1);
      store(width, at);
    });
  };
  /** The input offset of output pixel P (its window's first byte). */
  const pixelOffset = (): void => {
    f.get(P).get(OW).op('i32.div_u').get(sh).op('i32.mul').get(W).op('i32.mul').get(P).get(OW).op('i32.rem_u').get(sw).op('i32.mul').op('i32.add');
  };
  const group = (width: number, at: number): void => {
    f.get(P0).get(j0).op('i32.add').i32(at).op('i32.add').set(P);
    // one output row at stride 1, all columns real: consecutive input bytes
    f.get(sw).i32(1).op('i32.eq').get(P).get(OW).op('i32.rem_u').i32(width).op('i32.add').get(OW).op('i32.le_u').op('i32.and')
      .get(j0).i32(at + width).op('i32.add').get(cols).op('i32.le_u').op('i32.and').set(contiguous);
    f.get(contiguous).if(() => {
      f.get(x); pixelOffset(); f.op('i32.add').set(base);
    }, () => {
      // columns past the last one read pixel P0 (garbage columns the GEMM never stores)
      for (let j = 0; j < width; j++) {
        f.get(j0).i32(at + j).op('i32.add').get(cols).op('i32.lt_u').if(() => { f.get(P0).get(j0).op('i32.add').i32(at + j).op('i32.add').set(P); }, () => { f.get(P0).set(P); });
        f.get(x); pixelOffset(); f.op('i32.add').set(pix[j]);
      }
    });
    f.get(dst).get(j0).get(kp).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(d);
    f.get(contiguous).if(() => pairsOf(width, at, true), () => pairsOf(width, at, false));
  };
  f.forUp(j0, 0, cols, nr, () => {
    for (let at = 0; at + 8 <= nr; at += 8) group(8, at);
    if (nr % 8) group(4, nr - 4);
  });
}
