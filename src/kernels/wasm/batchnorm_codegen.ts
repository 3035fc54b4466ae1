// BatchNorm's per-plane statistics and per-channel affine maps for the trainer,
// 4 lanes at a time (reference: src/kernels/ts/batchnorm.ts).
import type { FuncBuilder, Local } from './emitter.js';
import { V128 } from './opcodes.js';

/** The per-channel value base[c] splatted into `out`. */
function channelSplat(f: FuncBuilder, base: Local, c: Local, out: Local): void {
  f.addr(base, c).mem('f32.load').op('f32x4.splat').set(out);
}

/** s1[p] = Σ a, s2[p] = Σ (a − ca[c])·(b − cb[c]) over each H×W plane p, c = p mod C; params (a, b, planes, C, HW, ca, cb, s1, s2). */

export function emitPlaneStats(f: FuncBuilder): void {
  const [a, b, planes, C, HW, ca, cb, s1, s2] = f.params;
  const p = f.local(), c = f.local(), i = f.local(), pa = f.local(), pb = f.local(), end4 = f.local();
  const va = f.local(V128), vca = f.local(V128), vcb = f.local(V128), acc1 = f.local(V128), acc2 = f.local(V128);
  f.get(HW).i32(-4).op('i32.and').set(end4);
  f.forUp(p, 0, planes, 1, () => {
    f.get(p).get(C).op('i32.rem_u').set(c);
    channelSplat(f, ca, c, vca);
    channelSplat(f, cb, c, vcb);
    f.f32x4(0).set(acc1);
    f.f32x4(0).set(acc2);
    f.get(p).get(HW).op('i32.mul').set(pa);
    f.addr(b, pa).set(pb);
    f.addr(a, pa).set(pa);
    const step = (width: 4 | 1) => {
      f.get(pa).mem(width === 4 ? 'v128.load' : 'f32.load');
      if (width === 1) f.op('f32x4.splat');
      f.set(va);
      // scalar steps splat their value, so only lane 0 may count: mask the others out
      const keep = () => { if (width === 1) f.i32x4(-1, 0, 0, 0).op('v128.and'); };
      f.get(acc1).get(va);
      keep();
      f.op('f32x4.add').set(acc1);
      f.get(acc2).get(va).get(vca).op('f32x4.sub');
      f.get(pb).mem(width === 4 ? 'v128.load' : 'f32.load');
      if (width === 1) f.op('f32x4.splat');
      f.get(vcb).op('f32x4.sub').op('f32x4.mul');
      keep();
      f.op('f32x4.add').set(acc2);
      f.addTo(pa, width * 4).addTo(pb, width * 4);
    };
    f.forUp(i, 0, end4, 4, () => step(4));
    f.forUp(i, end4, HW, 1, () => step(1));
    f.addr(s1, p);
    f.hsum(acc1).mem('f32.store');
    f.addr(s2, p);
    f.hsum(acc2).mem('f32.store');
  });
}

/** out (+= when acc) ka[c]·a + kb[c]·b + k0[c] per plane; params (a, b, out, planes, C, HW, ka, kb, k0, acc). */
export function emitPlaneLinear(f: FuncBuilder): void {
  const [a, b, out, planes, C, HW, ka, kb, k0, acc] = f.params;
  const p = f.local(), c = f.local(), i = f.local(), pa = f.local(), pb = f.local(), po = f.local(), end4 = f.local();
  const vka = f.local(V128), vkb = f.local(V128), vk0 = f.local(V128), v = f.local(V128);
  f.get(HW).i32(-4).op('i32.and').set(end4);
  f.forUp(p, 0, planes, 1, () => {
    f.get(p).get(C).op('i32.rem_u').set(c);
    channelSplat(f, ka, c, vka);
    channelSplat(f, kb, c, vkb);
    channelSplat(f, k0, c, vk0);
    f.get(p).get(HW).op('i32.mul').set(pa);
    f.addr(b, pa).set(pb);
    f.addr(out, pa).set(po);
    f.addr(a, pa).set(pa);
    const step = (width: 4 | 1) => {
      const [load, store] = width === 4 ? ['v128.load', 'v128.store'] : ['f32.load', 'f32.store'];
      const ld = (ptr: Local) => { f.get(ptr).mem(load); if (width === 1) f.op('f32x4.splat'); };
      ld(pa); f.get(vka).op('f32x4.mul');
      ld(pb); f.get(vkb).op('f32x4.mul').op('f32x4.add').get(vk0).op('f32x4.add').set(v);
      f.get(acc).if(() => { ld(po); f.get(v).op('f32x4.add').set(v); });
      f.get(po).get(v);
      if (width === 1) f.lane('f32x4.extract_lane', 0);
      f.mem(store);
      f.addTo(pa, width * 4).addTo(pb, width * 4).addTo(po, width * 4);
    };
    f.forUp(i, 0, end4, 4, () => step(4));
    f.forUp(i, end4, HW, 1, () => step(1));
  });
}
