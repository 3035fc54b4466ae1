// 2-D max / average pooling, specialised per window geometry like the depthwise
// kernel: each plane is copied into a buffer padded with the pool's identity
// (-inf for max, 0 for avg), then 4 outputs at a time are reduced with f32x4.
// Average divisors are separable (window clipped independently along H and W),
// so the caller passes per-row and per-column reciprocals.
import { loadTaps } from './depthwise_codegen.js';
import { FuncBuilder, ModuleBuilder } from './emitter.js';
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
  const acc = f.local(V128), t = f.local(V128), fill = f.local(V128), acc1 = f.local(F32), ih = f.local(F32);
  const reduce = g.kind === 'max' ? 'f32x4.max' : 'f32x4.add';
  const reduce1 = g.kind === 'max' ? 'f32.max' : 'f32.add';
  f.f32x4(g.kind === 'max' ? -Infinity : 0).set(fill);
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
        f.get(fill).set(acc);
        for (let ki = 0; ki < g.kh; ki++) {
          for (let kj = 0; kj < g.kw; kj++) { f.get(acc); loadTaps(f, g, rows[ki], kj * g.dw * 4, t); f.op(reduce).set(acc); }
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
          for (let kj = 0; kj < g.kw; kj++) f.get(acc1).get(rows[ki]).mem('f32.load', kj * g.dw * 4).op(reduce1).set(acc1);
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
