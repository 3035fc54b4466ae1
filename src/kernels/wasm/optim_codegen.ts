// Optimizer updates (PyTorch rules), 4 lanes at a time with a scalar tail
// (reference: src/kernels/ts/optim.ts).
import type { FuncBuilder, Local } from './emitter.js';
import { V128 } from './opcodes.js';

export function emitSgd(f: FuncBuilder): void {
  const [w, g, buf, n, lr, mu, damp, wd, nesterov] = f.params;
  const i = f.local(), end4 = f.local(), vw = f.local(V128), vg = f.local(V128), vb = f.local(V128);
  const vlr = f.local(V128), vmu = f.local(V128), vdamp = f.local(V128), vwd = f.local(V128), vnest = f.local(V128);
  for (const [v, s] of [[vlr, lr], [vmu, mu], [vdamp, damp], [vwd, wd]] as const) f.get(s).op('f32x4.splat').set(v);
  // Nesterov steps by g + μ·buf, plain momentum by buf: step = nest·g + (1 + (nest)(μ − 1))·buf, with nest 0 or 1.
  f.get(nesterov).op('f32.convert_i32_u').op('f32x4.splat').set(vnest);
  f.get(n).i32(-4).op('i32.and').set(end4);
  const body = (width: 4 | 1) => {
    const [load, store, splat] = width === 4 ? ['v128.load', 'v128.store', ''] : ['f32.load', 'f32.store', 'f32x4.splat'];
    const ld = (base: Local) => {
      f.addr(base, i).mem(load);
      if (splat) f.op(splat);
    };
    ld(w); f.set(vw);
    ld(g); f.get(vw).get(vwd).op('f32x4.mul').op('f32x4.add').set(vg); // g + wd·w
    ld(buf); f.get(vmu).op('f32x4.mul').get(vg).get(vdamp).op('f32x4.mul').op('f32x4.add').set(vb); // μ·buf + (1−τ)·g
    f.addr(buf, i).get(vb);
    if (width === 1) f.lane('f32x4.extract_lane', 0);
    f.mem(store);
    // w − lr·(nest ? g + μ·b : b)
    f.addr(w, i);
    f.get(vw).get(vlr);
    f.get(vg).get(vnest).op('f32x4.mul');
    f.get(vb).get(vmu).get(vnest).op('f32x4.mul').f32x4(1).op('f32x4.add').get(vnest).op('f32x4.sub').op('f32x4.mul');
    f.op('f32x4.add').op('f32x4.mul').op('f32x4.sub');
    if (width === 1) f.lane('f32x4.extract_lane', 0);
    f.mem(store);
  };
  f.forUp(i, 0, end4, 4, () => body(4));
  f.forUp(i, end4, n, 1, () => body(1));
}

export function emitAdam(f: FuncBuilder): void {
  const [w, g, m, v, n, lr, b1, b2, eps, wd, decoupled, ic1, ic2] = f.params;
  const i = f.local(), end4 = f.local();
  const vw = f.local(V128), vg = f.local(V128), vm = f.local(V128), vv = f.local(V128);
  const vlr = f.local(V128), vb1 = f.local(V128), vb2 = f.local(V128), veps = f.local(V128), vic1 = f.local(V128), vic2 = f.local(V128);
  const vshrink = f.local(V128), vl2 = f.local(V128);
  for (const [vec, s] of [[vlr, lr], [vb1, b1], [vb2, b2], [veps, eps], [vic1, ic1], [vic2, ic2]] as const) f.get(s).op('f32x4.splat').set(vec);
  // decoupled (AdamW): w ← w·(1 − lr·wd) and no L2 term; else shrink 1 and g ← g + wd·w
  f.get(decoupled).if(() => {
    f.f32(1).get(lr).get(wd).op('f32.mul').op('f32.sub').op('f32x4.splat').set(vshrink);
    f.f32x4(0).set(vl2);
  }, () => {
    f.f32x4(1).set(vshrink);
    f.get(wd).op('f32x4.splat').set(vl2);
  });
  f.get(n).i32(-4).op('i32.and').set(end4);
  const body = (width: 4 | 1) => {
    const [load, store] = width === 4 ? ['v128.load', 'v128.store'] : ['f32.load', 'f32.store'];
    const ld = (base: Local) => {
      f.addr(base, i).mem(load);
      if (width === 1) f.op('f32x4.splat');
    };
    const st = (base: Local, val: Local) => {
      f.addr(base, i).get(val);
      if (width === 1) f.lane('f32x4.extract_lane', 0);
      f.mem(store);
    };
    ld(w); f.get(vshrink).op('f32x4.mul').set(vw);
    ld(g); f.get(vl2).get(vw).op('f32x4.mul').op('f32x4.add').set(vg);
    ld(m); f.get(vb1).op('f32x4.mul').f32x4(1).get(vb1).op('f32x4.sub').get(vg).op('f32x4.mul').op('f32x4.add').set(vm);
    ld(v); f.get(vb2).op('f32x4.mul').f32x4(1).get(vb2).op('f32x4.sub').get(vg).op('f32x4.mul').get(vg).op('f32x4.mul').op('f32x4.add').set(vv);
    st(m, vm);
    st(v, vv);
    // w − lr·(m·ic1) / (√(v·ic2) + eps)
    f.get(vw);
    f.get(vlr).get(vm).op('f32x4.mul').get(vic1).op('f32x4.mul');
    f.get(vv).get(vic2).op('f32x4.mul').op('f32x4.sqrt').get(veps).op('f32x4.add');
    f.op('f32x4.div').op('f32x4.sub').set(vw);
    st(w, vw);
  };
  f.forUp(i, 0, end4, 4, () => body(4));
  f.forUp(i, end4, n, 1, () => body(1));
}
