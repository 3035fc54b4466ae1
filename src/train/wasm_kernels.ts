// The training engine's own WASM SIMD kernels, generated with the project's
// emitter (src/kernels/wasm/emitter.ts): the elementwise work around the GEMMs
// that is memory-bound and several times slower as JS loops.
//   col2im(cols, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dx)
//       dx (one image) += the adjoint of im2col (src/train/ops/im2col.ts layout)
//   clip(x, y, n, lo, hi)            y = min(max(x, lo), hi)          (Relu: lo 0, hi +∞)
//   clipBack(x, dy, dx, n, lo, hi)   dx += dy where lo < x < hi
//   maxPool(x, y, arg, planes, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw)
//       y = max over each window, arg = flat index of the (first) maximum in x
//   maxPoolBack(dy, arg, dx, n)      dx[arg[o]] += dy[o]
//   sgd(w, g, buf, n, lr, mu, damp, wd, nesterov)   one SGD-with-momentum update (PyTorch rule)
//   adam(w, g, m, v, n, lr, b1, b2, eps, wd, decoupled, ic1, ic2)   one Adam/AdamW update
// Addresses are byte offsets in a memory the caller owns; n counts elements.
import { FuncBuilder, ModuleBuilder, type Local } from '../kernels/wasm/emitter.js';
import { memoryImport } from '../kernels/wasm/loader.js';
import { F32, I32, V128, type ValType } from '../kernels/wasm/opcodes.js';

export interface TrainKernelExports {
  col2im(cols: number, C: number, H: number, W: number, kh: number, kw: number, padT: number, padL: number,
    sh: number, sw: number, dh: number, dw: number, OH: number, OW: number, dx: number): void;
  clip(x: number, y: number, n: number, lo: number, hi: number): void;
  clipBack(x: number, dy: number, dx: number, n: number, lo: number, hi: number): void;
  maxPool(x: number, y: number, arg: number, planes: number, H: number, W: number, OH: number, OW: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  maxPoolBack(dy: number, arg: number, dx: number, n: number): void;
  sgd(w: number, g: number, buf: number, n: number, lr: number, mu: number, damp: number, wd: number, nesterov: number): void;
  adam(w: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number,
    decoupled: number, ic1: number, ic2: number): void;
}

export function trainKernelsModule(): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(false));
  m.func('col2im', Array<ValType>(15).fill(I32), [], emitCol2im);
  m.func('clip', [I32, I32, I32, F32, F32], [], emitClip);
  m.func('clipBack', [I32, I32, I32, I32, F32, F32], [], emitClipBack);
  m.func('maxPool', Array<ValType>(16).fill(I32), [], emitMaxPool);
  m.func('maxPoolBack', [I32, I32, I32, I32], [], emitMaxPoolBack);
  m.func('sgd', [I32, I32, I32, I32, F32, F32, F32, F32, I32], [], emitSgd);
  m.func('adam', [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, I32, F32, F32], [], emitAdam);
  return m.build();
}

/** i32 address = base + index·4 on the stack. */
function at(f: FuncBuilder, base: Local, index: Local): FuncBuilder {
  return f.get(base).get(index).i32(4).op('i32.mul').op('i32.add');
}

function emitCol2im(f: FuncBuilder): void {
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

function emitClip(f: FuncBuilder): void {
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

function emitClipBack(f: FuncBuilder): void {
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

function emitMaxPool(f: FuncBuilder): void {
  const [x, y, arg, planes, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw] = f.params;
  const p = f.local(), oh = f.local(), ow = f.local(), ki = f.local(), kj = f.local(), ih = f.local(), iw = f.local();
  const base = f.local(), o = f.local(), bi = f.local(), idx = f.local(), best = f.local(F32), v = f.local(F32);
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
            // first maximum wins (a later equal value does not replace it); the first in-image value always counts
            f.get(v).get(best).op('f32.gt').get(bi).i32(0).op('i32.lt_s').op('i32.or').if(() => {
              f.get(v).set(best);
              f.get(idx).set(bi);
            });
          });
        }));
      });
      at(f, y, o).get(best).mem('f32.store');
      at(f, arg, o).get(bi).mem('i32.store');
      f.addTo(o, 1);
    }));
  });
}

function emitMaxPoolBack(f: FuncBuilder): void {
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

function emitSgd(f: FuncBuilder): void {
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
      at(f, base, i).mem(load);
      if (splat) f.op(splat);
    };
    ld(w); f.set(vw);
    ld(g); f.get(vw).get(vwd).op('f32x4.mul').op('f32x4.add').set(vg); // g + wd·w
    ld(buf); f.get(vmu).op('f32x4.mul').get(vg).get(vdamp).op('f32x4.mul').op('f32x4.add').set(vb); // μ·buf + (1−τ)·g
    at(f, buf, i).get(vb);
    if (width === 1) f.lane('f32x4.extract_lane', 0);
    f.mem(store);
    // w − lr·(nest ? g + μ·b : b)
    at(f, w, i);
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

function emitAdam(f: FuncBuilder): void {
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
      at(f, base, i).mem(load);
      if (width === 1) f.op('f32x4.splat');
    };
    const st = (base: Local, val: Local) => {
      at(f, base, i).get(val);
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
