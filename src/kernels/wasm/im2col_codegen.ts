// im2col: the patch matrix of one image, row-major [K = C·kh·kw, P = OH·OW], K in
// the (c, ki, kj) order of ONNX weights [M, C, kh, kw]. The GEMM then packs it
// (a vectorised copy). For stride 1 each patch row is a shifted copy of an input
// row: the valid span is copied with v128 loads/stores and only the few padded
// pixels at its ends are zeroed; other strides gather with bounds checks.
// col2im, its adjoint (the conv's data gradient), adds the rows back the same way.
// im2col8 is the same on one-byte elements (int8 / uint8 convs) with a padding
// value (the input's zero point: a quantized 0). The reference is src/ir/ref/im2col.ts.
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, type ValType } from './opcodes.js';

export const IM2COL_EXPORTS = {
  /** (x, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dst): x one image's C planes; dst [K, OH·OW]. */
  im2col: 'im2col',
  /** (x, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dst, pad): bytes, padding = pad. */
  im2col8: 'im2col8',
} as const;

export interface Im2colExports {
  im2col(x: number, C: number, H: number, W: number, kh: number, kw: number, padT: number, padL: number,
    sh: number, sw: number, dh: number, dw: number, OH: number, OW: number, dst: number): void;
  im2col8(x: number, C: number, H: number, W: number, kh: number, kw: number, padT: number, padL: number,
    sh: number, sw: number, dh: number, dw: number, OH: number, OW: number, dst: number, pad: number): void;
}

export function im2colModule(shared: boolean): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(shared));
  m.func(IM2COL_EXPORTS.im2col, Array<ValType>(15).fill(I32), [], (f) => emitIm2col(f, F32_ELEMENT));
  m.func(IM2COL_EXPORTS.im2col8, Array<ValType>(16).fill(I32), [], (f) => emitIm2col(f, BYTE_ELEMENT));
  return m.build();
}

/** An element type of the patch matrix: its size, how one is copied, and how the padding is written. */
interface Element { bytes: number; load: string; store: string; pad(f: FuncBuilder, params: Local[]): void }
const F32_ELEMENT: Element = { bytes: 4, load: 'f32.load', store: 'f32.store', pad: (f) => { f.f32(0); } };
const BYTE_ELEMENT: Element = { bytes: 1, load: 'i32.load8_u', store: 'i32.store8', pad: (f, p) => { f.get(p[15]); } };

function emitIm2col(f: FuncBuilder, e: Element): void {
  const [x, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dst] = f.params;
  const E = e.bytes;
  // row[from .. to) = the padding (a few pixels: scalar stores)
  const zeros = (row: Local, from: number | Local, to: number | Local, i: Local): void => {
    f.forUp(i, from, to, 1, () => { f.get(row).get(i).i32(E).op('i32.mul').op('i32.add'); e.pad(f, f.params); f.mem(e.store); });
  };
  const c = f.local(), ki = f.local(), kj = f.local(), oh = f.local(), ow = f.local(), ih = f.local(), iw0 = f.local();
  const src = f.local(), row = f.local(), lo = f.local(), hi = f.local(), n = f.local(), i = f.local(), lastD = f.local(), lastS = f.local();
  f.get(dst).set(row);
  f.forUp(c, 0, C, 1, () => f.forUp(ki, 0, kh, 1, () => f.forUp(kj, 0, kw, 1, () => {
    f.get(kj).get(dw).op('i32.mul').get(padL).op('i32.sub').set(iw0); // input column of output column 0
    f.forUp(oh, 0, OH, 1, () => {
      f.get(oh).get(sh).op('i32.mul').get(padT).op('i32.sub').get(ki).get(dh).op('i32.mul').op('i32.add').set(ih);
      f.get(ih).get(H).op('i32.ge_u').if(() => {
        zeros(row, 0, OW, ow); // the whole patch row falls in the vertical padding
      }, () => {
        f.get(x).get(c).get(H).op('i32.mul').get(ih).op('i32.add').get(W).op('i32.mul').i32(E).op('i32.mul').op('i32.add').set(src);
        f.get(sw).i32(1).op('i32.eq').if(() => {
          // valid output columns: 0 <= iw0 + ow < W  →  lo = max(0, -iw0), hi = min(OW, W - iw0)
          f.i32(0).get(iw0).op('i32.sub').set(lo);
          f.get(lo).i32(0).op('i32.lt_s').if(() => { f.i32(0).set(lo); });
          f.get(W).get(iw0).op('i32.sub').set(hi);
          f.get(hi).get(OW).op('i32.gt_s').if(() => { f.get(OW).set(hi); });
          f.get(hi).get(lo).op('i32.lt_s').if(() => { f.get(lo).set(hi); });
          zeros(row, 0, lo, ow);
          // copy src[iw0 + lo .. iw0 + hi) to row[lo .. hi): a vector at a time, then singles
          f.get(hi).get(lo).op('i32.sub').set(n);
          f.get(src).get(iw0).get(lo).op('i32.add').i32(E).op('i32.mul').op('i32.add').set(i); // i = source byte address
          f.get(row).get(lo).i32(E).op('i32.mul').op('i32.add').set(ow); // ow = destination byte address
          // bytes = n·E copied in the widest loads that fit: vectors then one overlapping the last
          // (same values), or two overlapping 8- or 4-byte words; single elements only below 4 bytes
          f.get(n).i32(E).op('i32.mul').set(n);
          f.get(ow).get(n).op('i32.add').set(lastD);
          f.get(i).get(n).op('i32.add').set(lastS);
          f.get(n).i32(16).op('i32.ge_s').if(() => {
            f.block((done) => f.loop((top) => {
              f.get(n).i32(16).op('i32.lt_s').brIf(done);
              f.get(ow).get(i).mem('v128.load').mem('v128.store');
              f.addTo(ow, 16).addTo(i, 16).addTo(n, -16).br(top);
            }));
            f.get(n).if(() => { f.get(lastD).i32(16).op('i32.sub').get(lastS).i32(16).op('i32.sub').mem('v128.load').mem('v128.store'); });
          }, () => {
            for (const [width, load, store] of [[8, 'i64.load', 'i64.store'], [4, 'i32.load', 'i32.store']] as const) {
              f.get(n).i32(width).op('i32.ge_s').if(() => {
                f.get(ow).get(i).mem(load).mem(store);
                f.get(lastD).i32(width).op('i32.sub').get(lastS).i32(width).op('i32.sub').mem(load).mem(store);
                f.i32(0).set(n);
              });
            }
            f.block((done) => f.loop((top) => {
              f.get(n).op('i32.eqz').brIf(done);
              f.get(ow).get(i).mem('i32.load8_u').mem('i32.store8');
              f.addTo(ow, 1).addTo(i, 1).addTo(n, -1).br(top);
            }));
          });
          zeros(row, hi, OW, ow);
        }, () => {
          f.forUp(ow, 0, OW, 1, () => {
            f.get(row).get(ow).i32(E).op('i32.mul').op('i32.add');
            f.get(iw0).get(ow).get(sw).op('i32.mul').op('i32.add').set(i);
            f.get(i).get(W).op('i32.lt_u').if(() => {
              f.get(src).get(i).i32(E).op('i32.mul').op('i32.add').mem(e.load);
            }, () => e.pad(f, f.params), E === 4 ? F32 : I32);
            f.mem(e.store);
          });
        });
      });
      f.get(row).get(OW).i32(E).op('i32.mul').op('i32.add').set(row);
    });
  })));
}

/** col2im of one image: dx += the adjoint of im2col; params (cols, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dx). */
export function emitCol2im(f: FuncBuilder): void {
  const [cols, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dx] = f.params;
  const c = f.local(), ki = f.local(), kj = f.local(), oh = f.local(), ow = f.local(), ih = f.local(), iw0 = f.local();
  const rowDx = f.local(), row = f.local(), lo = f.local(), hi = f.local(), n = f.local(), s = f.local(), d = f.local(), iw = f.local();
  f.get(cols).set(row);
  f.forUp(c, 0, C, 1, () => f.forUp(ki, 0, kh, 1, () => f.forUp(kj, 0, kw, 1, () => {
    f.get(kj).get(dw).op('i32.mul').get(padL).op('i32.sub').set(iw0); // input column of output column 0
    // stride 1: valid output columns lo ≤ ow < hi with 0 ≤ iw0 + ow < W
    f.i32(0).get(iw0).op('i32.sub').set(lo);
    f.get(lo).i32(0).op('i32.lt_s').if(() => { f.i32(0).set(lo); });
    f.get(W).get(iw0).op('i32.sub').set(hi);
    f.get(hi).get(OW).op('i32.gt_s').if(() => { f.get(OW).set(hi); });
    f.get(hi).get(lo).op('i32.lt_s').if(() => { f.get(lo).set(hi); });
    f.forUp(oh, 0, OH, 1, () => {
      f.get(oh).get(sh).op('i32.mul').get(padT).op('i32.sub').get(ki).get(dh).op('i32.mul').op('i32.add').set(ih);
      f.get(ih).get(H).op('i32.lt_u').if(() => { // rows in the vertical padding have no input
        f.get(dx).get(c).get(H).op('i32.mul').get(ih).op('i32.add').get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(rowDx);
        f.get(sw).i32(1).op('i32.eq').if(() => {
          f.get(hi).get(lo).op('i32.sub').set(n);
          f.get(iw0).get(lo).op('i32.add').set(d);
          f.addr(rowDx, d).set(d); // d = &dx[ih][iw0 + lo]
          f.addr(row, lo).set(s); // s = &cols[row][lo]
          f.block((done) => f.loop((top) => {
            f.get(n).i32(4).op('i32.lt_s').brIf(done);
            f.get(d).get(d).mem('v128.load').get(s).mem('v128.load').op('f32x4.add').mem('v128.store');
            f.addTo(d, 16).addTo(s, 16).addTo(n, -4).br(top);
          }));
          f.block((done) => f.loop((top) => {
            f.get(n).op('i32.eqz').brIf(done);
            f.get(d).get(d).mem('f32.load').get(s).mem('f32.load').op('f32.add').mem('f32.store');
            f.addTo(d, 4).addTo(s, 4).addTo(n, -1).br(top);
          }));
        }, () => {
          f.forUp(ow, 0, OW, 1, () => {
            f.get(iw0).get(ow).get(sw).op('i32.mul').op('i32.add').set(iw);
            f.get(iw).get(W).op('i32.lt_u').if(() => {
              f.addr(rowDx, iw).set(d);
              f.get(d).get(d).mem('f32.load');
              f.addr(row, ow).mem('f32.load');
              f.op('f32.add').mem('f32.store');
            });
          });
        });
      });
      f.get(row).get(OW).i32(4).op('i32.mul').op('i32.add').set(row);
    });
  })));
}
