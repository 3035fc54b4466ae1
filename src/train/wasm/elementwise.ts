// Clip (Relu = Clip(0, +∞)) forward and backward, 4 lanes at a time.
import type { FuncBuilder } from '../../kernels/wasm/emitter.js';
import { F32, V128 } from '../../kernels/wasm/opcodes.js';
import { at } from './util.js';

export function emitClip(f: FuncBuilder): void {
  const [x, y, n, lo, hi] = f.params;
  const i = f.local(), vlo = f.local(V128), vhi = f.local(V128), end4 = f.local();
  f.get(lo).op('f32x4.splat').set(vlo);
  f.get(hi).op('f32x4.splat').set(vhi);
  f.get(n).i32(-4).op('i32.and').set(end4);
  f.forUp(i, 0, end4, 4, () => {
    at(f, y, i);
    at(f, x, i).mem('v128.load').get(vlo).op('f32x4.max').get(vhi).op('f32x4.min');
    f.mem('v128.store');
  });
  f.forUp(i, end4, n, 1, () => {
    at(f, y, i);
    at(f, x, i).mem('f32.load').get(lo).op('f32.max').get(hi).op('f32.min');
    f.mem('f32.store');
  });
}

export function emitClipBack(f: FuncBuilder): void {
  const [x, dy, dx, n, lo, hi] = f.params;
  const i = f.local(), vlo = f.local(V128), vhi = f.local(V128), v = f.local(V128), end4 = f.local(), xs = f.local(F32);
  f.get(lo).op('f32x4.splat').set(vlo);
  f.get(hi).op('f32x4.splat').set(vhi);
  f.get(n).i32(-4).op('i32.and').set(end4);
  f.forUp(i, 0, end4, 4, () => {
    at(f, x, i).mem('v128.load').set(v);
    at(f, dx, i);
    at(f, dx, i).mem('v128.load');
    at(f, dy, i).mem('v128.load');
    f.get(v).get(vlo).op('f32x4.gt').get(v).get(vhi).op('f32x4.lt').op('v128.and').op('v128.and');
    f.op('f32x4.add').mem('v128.store');
  });
  f.forUp(i, end4, n, 1, () => {
    at(f, x, i).mem('f32.load').set(xs);
    at(f, dx, i);
    at(f, dx, i).mem('f32.load');
    at(f, dy, i).mem('f32.load').f32(0);
    f.get(xs).get(lo).op('f32.gt').get(xs).get(hi).op('f32.lt').op('i32.and');
    f.op('select').op('f32.add').mem('f32.store');
  });
}
