// im2col straight into the GEMM's packed-B layout: the columns of the patch
// matrix (one per output pixel) are written in panels of NR, so a convolution is
// im2col + the packed GEMM with no separate packing pass. K index order is
// (c, ki, kj), the order of ONNX weights [M, C, kh, kw].
import { ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32 } from './opcodes.js';

export const IM2COL_EXPORTS = {
  /** (x, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dst): x one image's C planes, dst packed B (K = C*kh*kw, N = OH*OW). */
  im2col: 'im2col',
} as const;

export function im2colModule(nr: number, shared: boolean): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(shared));
  m.func(IM2COL_EXPORTS.im2col, Array(15).fill(I32), [], (f) => {
    const [x, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dst] = f.params;
    const c = f.local(), ki = f.local(), kj = f.local(), k = f.local(), oh = f.local(), ow = f.local();
    const ih = f.local(), iw = f.local(), iw0 = f.local(), src = f.local(), dp = f.local(), j = f.local(), skip = f.local();
    // skip = bytes from the end of an NR-wide row to the same row of the next panel: (K - 1) * NR * 4
    f.get(C).get(kh).op('i32.mul').get(kw).op('i32.mul').i32(1).op('i32.sub').i32(nr * 4).op('i32.mul').set(skip);
    f.i32(0).set(k);
    f.forUp(c, 0, C, 1, () => f.forUp(ki, 0, kh, 1, () => f.forUp(kj, 0, kw, 1, () => {
      f.get(dst).get(k).i32(nr * 4).op('i32.mul').op('i32.add').set(dp);
      f.i32(0).set(j);
      f.get(kj).get(dw).op('i32.mul').get(padL).op('i32.sub').set(iw0);
      f.forUp(oh, 0, OH, 1, () => {
        // ih = oh*sh - padT + ki*dh; src = x + (c*H + ih)*W*4
        f.get(oh).get(sh).op('i32.mul').get(padT).op('i32.sub').get(ki).get(dh).op('i32.mul').op('i32.add').set(ih);
        f.get(x).get(c).get(H).op('i32.mul').get(ih).op('i32.add').get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(src);
        f.get(iw0).set(iw);
        f.forUp(ow, 0, OW, 1, () => {
          f.get(dp);
          // in bounds when 0 <= ih < H and 0 <= iw < W (unsigned compares catch the negatives)
          f.get(ih).get(H).op('i32.lt_u').get(iw).get(W).op('i32.lt_u').op('i32.and').if(() => {
            f.get(src).get(iw).i32(4).op('i32.mul').op('i32.add').mem('f32.load');
          }, () => { f.f32(0); }, F32);
          f.mem('f32.store');
          f.addTo(dp, 4).addTo(iw, sw).addTo(j, 1);
          f.get(j).i32(nr).op('i32.eq').if(() => { f.i32(0).set(j).addTo(dp, skip); });
        });
      });
      // zero the columns past the last pixel in the last panel
      f.get(j).if(() => { f.get(dp).i32(0).i32(nr).get(j).op('i32.sub').i32(4).op('i32.mul').memoryFill(); });
      f.addTo(k, 1);
    })));
  });
  return m.build();
}
