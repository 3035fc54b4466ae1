// Max pooling with argmax (general windows, and a SIMD 2×2 stride-2 path) and its backward.
import type { FuncBuilder, Local } from '../../kernels/wasm/emitter.js';
import { F32, V128 } from '../../kernels/wasm/opcodes.js';
import { at, i32x4 } from './util.js';

export function emitMaxPool(f: FuncBuilder): void {
  const [x, y, arg, planes, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw] = f.params;
  const p = f.local(), oh = f.local(), ow = f.local(), ki = f.local(), kj = f.local(), ih = f.local(), iw = f.local();
  const base = f.local(), o = f.local(), bi = f.local(), idx = f.local(), take = f.local(), best = f.local(F32), v = f.local(F32);
  f.forUp(p, 0, planes, 1, () => {
    f.get(p).get(H).op('i32.mul').get(W).op('i32.mul').set(base);
    f.forUp(oh, 0, OH, 1, () => f.forUp(ow, 0, OW, 1, () => {
      f.i32(-1).set(bi);
      f.f32(-Infinity).set(best);
      f.forUp(ki, 0, kh, 1, () => {
        f.get(oh).get(sh).op('i32.mul').get(pt).op('i32.sub').get(ki).get(dh).op('i32.mul').op('i32.add').set(ih);
        f.get(ih).get(H).op('i32.lt_u').if(() => f.forUp(kj, 0, kw, 1, () => {
          f.get(ow).get(sw).op('i32.mul').get(pl).op('i32.sub').get(kj).get(dw).op('i32.mul').op('i32.add').set(iw);
          f.get(iw).get(W).op('i32.lt_u').if(() => {
            f.get(base).get(ih).get(W).op('i32.mul').op('i32.add').get(iw).op('i32.add').set(idx);
            at(f, x, idx).mem('f32.load').set(v);
            // first maximum wins (a later equal value does not replace it); the first in-image value always counts.
            // Branch-free (select): which element is the maximum is data-dependent and would mispredict.
            f.get(v).get(best).op('f32.gt').get(bi).i32(0).op('i32.lt_s').op('i32.or').set(take);
            f.get(v).get(best).get(take).op('select').set(best);
            f.get(idx).get(bi).get(take).op('select').set(bi);
          });
        }));
      });
      at(f, y, o).get(best).mem('f32.store');
      at(f, arg, o).get(bi).mem('i32.store');
      f.addTo(o, 1);
    }));
  });
}

export function emitMaxPool2x2(f: FuncBuilder): void {
  const [x, y, arg, planes, H, W, OH, OW] = f.params;
  const p = f.local(), i = f.local(), j = f.local(), r0 = f.local(), o = f.local(), end4 = f.local(), win = f.local();
  const lo = f.local(V128), hi = f.local(V128), a = f.local(V128), b = f.local(V128), c = f.local(V128), d = f.local(V128);
  const s1 = f.local(V128), s2 = f.local(V128), mab = f.local(V128), mcd = f.local(V128), base = f.local(V128), sel = f.local(V128);
  const fa = f.local(F32), fb = f.local(F32), fc = f.local(F32), fd = f.local(F32), ia = f.local(), ic = f.local(), best = f.local();
  f.get(OW).i32(-4).op('i32.and').set(end4);
  /** Loads x[pos], x[pos + 4] and splits them into the even (left) and odd (right) columns of 4 windows. */
  const split = (pos: Local, left: Local, right: Local) => {
    at(f, x, pos).mem('v128.load').set(lo);
    at(f, x, pos).mem('v128.load', 16).set(hi);
    f.get(lo).get(hi).shuffle32(0, 2, 4, 6).set(left);
    f.get(lo).get(hi).shuffle32(1, 3, 5, 7).set(right);
  };
  f.forUp(p, 0, planes, 1, () => f.forUp(i, 0, OH, 1, () => {
    f.get(p).get(H).op('i32.mul').get(i).i32(2).op('i32.mul').op('i32.add').get(W).op('i32.mul').set(r0); // row 2i of plane p
    f.forUp(j, 0, end4, 4, () => {
      f.get(r0).get(j).i32(2).op('i32.mul').op('i32.add').set(win); // first window's top-left element
      split(win, a, b);
      f.get(win).get(W).op('i32.add').set(win);
      split(win, c, d);
      f.get(win).get(W).op('i32.sub').set(win);
      // first maximum wins: b replaces a only if greater, the bottom pair replaces the top only if greater
      f.get(b).get(a).op('f32x4.gt').set(s1);
      f.get(d).get(c).op('f32x4.gt').set(s2);
      f.get(b).get(a).get(s1).op('v128.bitselect').set(mab);
      f.get(d).get(c).get(s2).op('v128.bitselect').set(mcd);
      f.get(mcd).get(mab).op('f32x4.gt').set(sel);
      at(f, y, o).get(mcd).get(mab).get(sel).op('v128.bitselect').mem('v128.store');
      // indices: window base + (0 | 1) on top, + W + (0 | 1) below (a true mask is −1, so base − mask adds 1)
      f.get(win).op('i32x4.splat');
      i32x4(f, 0, 2, 4, 6).op('i32x4.add').set(base);
      at(f, arg, o);
      f.get(base).get(W).op('i32x4.splat').op('i32x4.add').get(s2).op('i32x4.sub');
      f.get(base).get(s1).op('i32x4.sub');
      f.get(sel).op('v128.bitselect').mem('v128.store');
      f.addTo(o, 4);
    });
    f.forUp(j, end4, OW, 1, () => {
      f.get(r0).get(j).i32(2).op('i32.mul').op('i32.add').set(win);
      at(f, x, win).mem('f32.load').set(fa);
      at(f, x, win).mem('f32.load', 4).set(fb);
      f.get(win).get(W).op('i32.add').set(ic);
      at(f, x, ic).mem('f32.load').set(fc);
      at(f, x, ic).mem('f32.load', 4).set(fd);
      f.get(win).i32(1).op('i32.add').get(win).get(fb).get(fa).op('f32.gt').op('select').set(ia);
      f.get(ic).i32(1).op('i32.add').get(ic).get(fd).get(fc).op('f32.gt').op('select').set(ic);
      f.get(ic).get(ia);
      at(f, x, ic).mem('f32.load');
      at(f, x, ia).mem('f32.load');
      f.op('f32.gt').op('select').set(best);
      at(f, y, o);
      at(f, x, best).mem('f32.load').mem('f32.store');
      at(f, arg, o).get(best).mem('i32.store');
      f.addTo(o, 1);
    });
  }));
}

export function emitMaxPoolBack(f: FuncBuilder): void {
  const [dy, arg, dx, n] = f.params;
  const o = f.local(), a = f.local();
  f.forUp(o, 0, n, 1, () => {
    at(f, arg, o).mem('i32.load').set(a);
    f.get(a).i32(0).op('i32.ge_s').if(() => {
      at(f, dx, a);
      at(f, dx, a).mem('f32.load');
      at(f, dy, o).mem('f32.load');
      f.op('f32.add').mem('f32.store');
    });
  });
}
