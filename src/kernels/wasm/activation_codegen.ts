// Elementwise kernels in WASM: clamp (relu = clamp to [0, +inf), relu6, clip), and
// Add / Sub / Mul / Div of two same-shape operands with the clamp fused (a residual
// Add → Relu in one pass); f32x4 over the bulk and a scalar tail, in place when the
// output is an input; and the clamp's gradient for the trainer (reference: src/kernels/ts/clip.ts).
import { type FuncBuilder, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128 } from './opcodes.js';

export const ACTIVATION_EXPORTS = {
  /** (src, dst, n, lo: f32, hi: f32): dst[i] = min(max(src[i], lo), hi). */
  clamp: 'clamp',
  /** (a, b, y, n, lo: f32, hi: f32): y[i] = min(max(a[i] op b[i], lo), hi), one export per op. */
  add: 'add', sub: 'sub', mul: 'mul', div: 'div',
} as const;

/** The binary ops' f32x4 and scalar instructions. */
const BINARY_OPS = {
  add: ['f32x4.add', 'f32.add'], sub: ['f32x4.sub', 'f32.sub'], mul: ['f32x4.mul', 'f32.mul'], div: ['f32x4.div', 'f32.div'],
} as const;

export function activationModule(shared: boolean): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(shared));
  m.func(ACTIVATION_EXPORTS.clamp, [I32, I32, I32, F32, F32], [], emitClamp);
  for (const op of Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[]) {
    m.func(ACTIVATION_EXPORTS[op], [I32, I32, I32, I32, F32, F32], [], (f) => emitBinary(f, op));
  }
  return m.build();
}

/** y[i] = min(max(a[i] op b[i], lo), hi); params (a, b, y, n, lo: f32, hi: f32). */
function emitBinary(f: FuncBuilder, op: keyof typeof BINARY_OPS): void {
  const [a, b, y, n, lo, hi] = f.params, [vop, sop] = BINARY_OPS[op];
  const i = f.local(), end4 = f.local(), lo4 = f.local(V128), hi4 = f.local(V128);
  f.get(lo).op('f32x4.splat').set(lo4).get(hi).op('f32x4.splat').set(hi4);
  f.get(n).i32(-4).op('i32.and').set(end4);
  f.forUp(i, 0, end4, 4, () => {
    f.addr(y, i);
    f.addr(a, i).mem('v128.load').addr(b, i).mem('v128.load').op(vop).clampTo(lo4, hi4);
    f.mem('v128.store');
  });
  f.forUp(i, end4, n, 1, () => {
    f.addr(y, i);
    f.addr(a, i).mem('f32.load').addr(b, i).mem('f32.load').op(sop).get(lo).op('f32.max').get(hi).op('f32.min');
    f.mem('f32.store');
  });
}

/** dst[i] = min(max(src[i], lo), hi); params (src, dst, n, lo: f32, hi: f32). */
export function emitClamp(f: FuncBuilder): void {
  const [src, dst, n, lo, hi] = f.params;
  const i = f.local(), nVec = f.local(), lo4 = f.local(V128), hi4 = f.local(V128);
  f.get(lo).op('f32x4.splat').set(lo4).get(hi).op('f32x4.splat').set(hi4);
  f.get(n).get(n).i32(3).op('i32.and').op('i32.sub').i32(4).op('i32.mul').set(nVec);
  f.get(n).i32(4).op('i32.mul').set(n); // n in bytes from here on
  f.forUp(i, 0, nVec, 16, () => {
    f.get(dst).get(i).op('i32.add');
    f.get(src).get(i).op('i32.add').mem('v128.load').clampTo(lo4, hi4);
    f.mem('v128.store');
  });
  f.forUp(i, nVec, n, 4, () => {
    f.get(dst).get(i).op('i32.add');
    f.get(src).get(i).op('i32.add').mem('f32.load').get(lo).op('f32.max').get(hi).op('f32.min');
    f.mem('f32.store');
  });
}

/** Its gradient: dx += dy where lo < x < hi; params (x, dy, dx, n, lo: f32, hi: f32). */
export function emitClampBack(f: FuncBuilder): void {
  const [x, dy, dx, n, lo, hi] = f.params;
  const i = f.local(), vlo = f.local(V128), vhi = f.local(V128), v = f.local(V128), end4 = f.local(), xs = f.local(F32);
  f.get(lo).op('f32x4.splat').set(vlo);
  f.get(hi).op('f32x4.splat').set(vhi);
  f.get(n).i32(-4).op('i32.and').set(end4);
  f.forUp(i, 0, end4, 4, () => {
    f.addr(x, i).mem('v128.load').set(v);
    f.addr(dx, i);
    f.addr(dx, i).mem('v128.load');
    f.addr(dy, i).mem('v128.load');
    f.get(v).get(vlo).op('f32x4.gt').get(v).get(vhi).op('f32x4.lt').op('v128.and').op('v128.and');
    f.op('f32x4.add').mem('v128.store');
  });
  f.forUp(i, end4, n, 1, () => {
    f.addr(x, i).mem('f32.load').set(xs);
    f.addr(dx, i);
    f.addr(dx, i).mem('f32.load');
    f.addr(dy, i).mem('f32.load').f32(0);
    f.get(xs).get(lo).op('f32.gt').get(xs).get(hi).op('f32.lt').op('i32.and');
    f.op('select').op('f32.add').mem('f32.store');
  });
}
