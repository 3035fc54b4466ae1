// The pooling kernels (reference: src/ir/ref/pool.ts).
// Inference: 2-D max / average pooling, specialised per window geometry like the
// depthwise kernel: each plane is copied into a buffer padded with the pool's
// identity (-inf for max, 0 for avg), then 4 outputs at a time are reduced with
// f32x4 (max: from the window's first tap, as f32x4.pmax, t > m ? t : m, the
// reference's rule; f32x4.max lowers to about seven instructions). Average divisors
// are separable (window clipped independently along H and W), so the caller passes
// per-row and per-column reciprocals.
// Training (emitted into the training module, train_codegen.ts): max pooling
// that also records the argmax (general windows, and a SIMD 2×2 stride-2 path),
// and its backward.
import { loadTaps } from './depthwise_codegen.js';
import { FuncBuilder, ModuleBuilder, type Local } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128 } from './opcodes.js';

export interface PoolGeometry {
  kind: 'max' | 'avg';
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  shared: boolean;
}

export const POOL_EXPORTS = {
  /**
   * (x, y, planes, H, W, OH, OW, pbuf, PH, PW, padT, padL, invH, invW): pbuf holds PH×PW floats (PW a
   * multiple of 4, with slack); invH [OH] / invW [OW padded to 4] are the avg reciprocals (unused for max).
   */
  pool: 'pool',
} as const;

export function poolModule(g: PoolGeometry): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(g.shared));
  m.func(POOL_EXPORTS.pool, Array(14).fill(I32), [], (f) => emitPool(f, g));
  return m.build();
}

function emitPool(f: FuncBuilder, g: PoolGeometry): void {
  const [x, y, planes, H, W, OH, OW, pbuf, PH, PW, padT, padL, invH, invW] = f.params;
  const c = f.local(), oh = f.local(), ow = f.local(), r = f.local(), plane = f.local(), yrow = f.local(), owVec = f.local();
  const rowBytes = f.local(), p = f.local(), end = f.local();
  const rows = Array.from({ length: g.kh }, () => f.local());
  const acc = f.local(V128), t = f.local(V128), fill = f.local(V128), acc1 = f.local(F32), ih = f.local(F32), ih1 = f.local(F32);
  const max = g.kind === 'max';
  f.f32x4(max ? -Infinity : 0).set(fill);
  f.get(OW).get(OW).i32(3).op('i32.and').op('i32.sub').set(owVec);
  f.get(PW).i32(4).op('i32.mul').set(rowBytes);
  f.forUp(c, 0, planes, 1, () => {
    // fill the padded buffer with the identity, then copy the plane's rows in
    f.get(pbuf).get(PH).get(rowBytes).op('i32.mul').op('i32.add').set(end);
    f.forUp(p, pbuf, end, 16, () => { f.get(p).get(fill).mem('v128.store'); });
    f.get(x).get(c).get(H).op('i32.mul').get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(plane);
    f.forUp(r, 0, H, 1, () => {
      f.get(pbuf).get(r).get(padT).op('i32.add').get(rowBytes).op('i32.mul').op('i32.add').get(padL).i32(4).op('i32.mul').op('i32.add');
      f.get(plane).get(r).get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add');
      f.get(W).i32(4).op('i32.mul').memoryCopy();
    });
    f.forUp(oh, 0, OH, 1, () => {
      f.get(y).get(c).get(OH).op('i32.mul').get(oh).op('i32.add').get(OW).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(yrow);
      for (let ki = 0; ki < g.kh; ki++) {
        f.get(pbuf).get(oh).i32(g.sh).op('i32.mul').i32(ki * g.dh).op('i32.add').get(rowBytes).op('i32.mul').op('i32.add').set(rows[ki]);
      }
      if (g.kind === 'avg') f.get(invH).get(oh).i32(4).op('i32.mul').op('i32.add').mem('f32.load').set(ih);
      f.forUp(ow, 0, owVec, 4, () => {
        if (!max) f.get(fill).set(acc);
        for (let ki = 0; ki < g.kh; ki++) {
          for (let kj = 0; kj < g.kw; kj++) {
            if (max && ki + kj === 0) { loadTaps(f, g, rows[0], 0, t); f.set(acc); continue; }
            f.get(acc); loadTaps(f, g, rows[ki], kj * g.dw * 4, t); f.op(max ? 'f32x4.pmax' : 'f32x4.add').set(acc);
          }
        }
        if (g.kind === 'avg') {
          f.get(acc).get(ih).op('f32x4.splat').op('f32x4.mul');
          f.get(invW).get(ow).i32(4).op('i32.mul').op('i32.add').mem('v128.load').op('f32x4.mul').set(acc);
        }
        f.get(yrow).get(acc).mem('v128.store').addTo(yrow, 16);
        for (const q of rows) f.addTo(q, 4 * 4 * g.sw);
      });
      f.forUp(ow, owVec, OW, 1, () => {
        f.get(fill).lane('f32x4.extract_lane', 0).set(acc1);
        for (let ki = 0; ki < g.kh; ki++) {
          for (let kj = 0; kj < g.kw; kj++) {
            f.get(rows[ki]).mem('f32.load', kj * g.dw * 4).set(ih1);
            if (!max) { f.get(acc1).get(ih1).op('f32.add').set(acc1); continue; }
            // the first tap, then t > m ? t : m (the vector lanes' rule)
            if (ki + kj === 0) f.get(ih1).set(acc1);
            else f.get(ih1).get(acc1).get(ih1).get(acc1).op('f32.gt').op('select').set(acc1);
          }
        }
        if (g.kind === 'avg') {
          f.get(acc1).get(ih).op('f32.mul').get(invW).get(ow).i32(4).op('i32.mul').op('i32.add').mem('f32.load').op('f32.mul').set(acc1);
        }
        f.get(yrow).get(acc1).mem('f32.store').addTo(yrow, 4);
        for (const q of rows) f.addTo(q, 4 * g.sw);
      });
    });
  });
}

/**
 * Max pooling with the flat input index of each window's first maximum:
 * (x, y, arg, planes, H, W, OH, OW, kh, kw, sh, sw, padT, padL, dh, dw).
 */
export function emitMaxPoolArgmax(f: FuncBuilder): void {
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
            f.addr(x, idx).mem('f32.load').set(v);
            // first maximum wins (a later equal value does not replace it); the first in-image value always counts.
            // Branch-free (select): which element is the maximum is data-dependent and would mispredict.
            f.get(v).get(best).op('f32.gt').get(bi).i32(0).op('i32.lt_s').op('i32.or').set(take);
            f.get(v).get(best).get(take).op('select').set(best);
            f.get(idx).get(bi).get(take).op('select').set(bi);
          });
        }));
      });
      f.addr(y, o).get(best).mem('f32.store');
      f.addr(arg, o).get(bi).mem('i32.store');
      f.addTo(o, 1);
    }));
  });
}

/** The same for 2×2 stride-2 unpadded windows, 4 outputs per SIMD step: (x, y, arg, planes, H, W, OH, OW). */
export function emitMaxPool2x2Argmax(f: FuncBuilder): void {
  const [x, y, arg, planes, H, W, OH, OW] = f.params;
  const p = f.local(), i = f.local(), j = f.local(), r0 = f.local(), o = f.local(), end4 = f.local(), win = f.local();
  const lo = f.local(V128), hi = f.local(V128), a = f.local(V128), b = f.local(V128), c = f.local(V128), d = f.local(V128);
  const s1 = f.local(V128), s2 = f.local(V128), mab = f.local(V128), mcd = f.local(V128), base = f.local(V128), sel = f.local(V128);
  const fa = f.local(F32), fb = f.local(F32), fc = f.local(F32), fd = f.local(F32), ia = f.local(), ic = f.local(), best = f.local();
  f.get(OW).i32(-4).op('i32.and').set(end4);
  /** Loads x[pos], x[pos + 4] and splits them into the even (left) and odd (right) columns of 4 windows. */
  const split = (pos: Local, left: Local, right: Local) => {
    f.addr(x, pos).mem('v128.load').set(lo);
    f.addr(x, pos).mem('v128.load', 16).set(hi);
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
      f.addr(y, o).get(mcd).get(mab).get(sel).op('v128.bitselect').mem('v128.store');
      // indices: window base + (0 | 1) on top, + W + (0 | 1) below (a true mask is −1, so base − mask adds 1)
      f.get(win).op('i32x4.splat');
      f.i32x4(0, 2, 4, 6).op('i32x4.add').set(base);
      f.addr(arg, o);
      f.get(base).get(W).op('i32x4.splat').op('i32x4.add').get(s2).op('i32x4.sub');
      f.get(base).get(s1).op('i32x4.sub');
      f.get(sel).op('v128.bitselect').mem('v128.store');
      f.addTo(o, 4);
    });
    f.forUp(j, end4, OW, 1, () => {
      f.get(r0).get(j).i32(2).op('i32.mul').op('i32.add').set(win);
      f.addr(x, win).mem('f32.load').set(fa);
      f.addr(x, win).mem('f32.load', 4).set(fb);
      f.get(win).get(W).op('i32.add').set(ic);
      f.addr(x, ic).mem('f32.load').set(fc);
      f.addr(x, ic).mem('f32.load', 4).set(fd);
      f.get(win).i32(1).op('i32.add').get(win).get(fb).get(fa).op('f32.gt').op('select').set(ia);
      f.get(ic).i32(1).op('i32.add').get(ic).get(fd).get(fc).op('f32.gt').op('select').set(ic);
      f.get(ic).get(ia);
      f.addr(x, ic).mem('f32.load');
      f.addr(x, ia).mem('f32.load');
      f.op('f32.gt').op('select').set(best);
      f.addr(y, o);
      f.addr(x, best).mem('f32.load').mem('f32.store');
      f.addr(arg, o).get(best).mem('i32.store');
      f.addTo(o, 1);
    });
  }));
}

/** dx[arg[o]] += dy[o] for o < n: (dy, arg, dx, n). */
export function emitMaxPoolBack(f: FuncBuilder): void {
  const [dy, arg, dx, n] = f.params;
  const o = f.local(), a = f.local();
  f.forUp(o, 0, n, 1, () => {
    f.addr(arg, o).mem('i32.load').set(a);
    f.get(a).i32(0).op('i32.ge_s').if(() => {
      f.addr(dx, a);
      f.addr(dx, a).mem('f32.load');
      f.addr(dy, o).mem('f32.load');
      f.op('f32.add').mem('f32.store');
    });
  });
}
