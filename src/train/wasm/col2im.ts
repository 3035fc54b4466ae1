// col2im of one image: dx += the adjoint of im2col (layout of src/train/ops/im2col.ts).
import type { FuncBuilder } from '../../kernels/wasm/emitter.js';
import { at } from './util.js';

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
          at(f, rowDx, d).set(d); // d = &dx[ih][iw0 + lo]
          at(f, row, lo).set(s); // s = &cols[row][lo]
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
              at(f, rowDx, iw).set(d);
              f.get(d).get(d).mem('f32.load');
              at(f, row, ow).mem('f32.load');
              f.op('f32.add').mem('f32.store');
            });
          });
        });
      });
      f.get(row).get(OW).i32(4).op('i32.mul').op('i32.add').set(row);
    });
  })));
}
