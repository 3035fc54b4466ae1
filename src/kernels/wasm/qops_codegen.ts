// Integer element and window kernels around the integer GEMM: QuantizeLinear
// (f32 → int8 / uint8: f32 division, round half to even with f32x4.nearest,
// saturate), DequantizeLinear (int8 / uint8 → f32: f32(q − zero)·scale), both as
// ir/quant.ts computes them, per tensor; and max pooling on int8 / uint8 planes,
// separable (max over the window's rows, then over its columns), with a vector
// path for 2×2 stride-2 windows; the addition of two 8-bit tensors (ir/quant.ts addValue). Vectors may read up to 64 bytes past an input
// (the arena's slack); outputs past `n` go through the scratch.
// References: ir/ref/quantize.ts, ir/ref/pool.ts.
import { FuncBuilder, ModuleBuilder, type Local } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128 } from './opcodes.js';

export const QOPS_EXPORTS = {
  /** (x, y, n, scale: f32, zero, lo, hi, scratch): y int8/uint8 per the narrowing of lo/hi (unsigned when lo ≥ 0). */
  quantize8: 'quantize8',
  /** (x, y, n, scale: f32, zero, unsigned, scratch) */
  dequantize8: 'dequantize8',
  /** (x, y, planes, H, W, OH, OW, kh, kw, sh, sw, dh, dw, padT, padL, rowbuf): int8 */
  maxpool8s: 'maxpool8s',
  /** the same on uint8 */
  maxpool8u: 'maxpool8u',
  /** (a, b, y, n, za, zb, ma, mb, shift, zy, lo, hi, unsigned, scratch): y = addValue (ir/quant.ts) on 8-bit tensors of one type */
  add8: 'add8',
} as const;

export interface QopsExports {
  quantize8(x: number, y: number, n: number, scale: number, zero: number, lo: number, hi: number, scratch: number): void;
  dequantize8(x: number, y: number, n: number, scale: number, zero: number, unsigned: number, scratch: number): void;
  maxpool8s(...args: number[]): void;
  maxpool8u(...args: number[]): void;
  add8(a: number, b: number, y: number, n: number, za: number, zb: number, ma: number, mb: number, shift: number, zy: number,
    lo: number, hi: number, unsigned: number, scratch: number): void;
}

/** Scratch bytes of one call (the last partial vector of outputs). */
export const QOPS_SCRATCH = 64;

export function qopsModule(shared: boolean): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(shared));
  m.func(QOPS_EXPORTS.quantize8, [I32, I32, I32, F32, I32, I32, I32, I32], [], (f) => emitQuantize(f));
  m.func(QOPS_EXPORTS.dequantize8, [I32, I32, I32, F32, I32, I32, I32], [], (f) => emitDequantize(f));
  m.func(QOPS_EXPORTS.maxpool8s, Array(16).fill(I32), [], (f) => emitMaxPool(f, 's'));
  m.func(QOPS_EXPORTS.maxpool8u, Array(16).fill(I32), [], (f) => emitMaxPool(f, 'u'));
  m.func(QOPS_EXPORTS.add8, Array(14).fill(I32), [], (f) => emitAdd(f));
  return m.build();
}

/** 16 values per step; the last (partial) step is written to scratch and copied. */
function emitQuantize(f: FuncBuilder): void {
  const [x, y, n, scale, zero, lo, hi, scratch] = f.params;
  const i = f.local(), s = f.local(V128), z = f.local(V128), l = f.local(V128), h = f.local(V128), dst = f.local(), un = f.local();
  const v = [0, 1, 2, 3].map(() => f.local(V128));
  f.get(scale).op('f32x4.splat').set(s);
  f.get(zero).op('i32x4.splat').set(z);
  f.get(lo).op('i32x4.splat').set(l);
  f.get(hi).op('i32x4.splat').set(h);
  f.get(lo).i32(0).op('i32.ge_s').set(un);
  f.forUp(i, 0, n, 16, () => {
    for (let k = 0; k < 4; k++) {
      f.get(x).mem('v128.load', 16 * k).get(s).op('f32x4.div').op('f32x4.nearest').op('i32x4.trunc_sat_f32x4_s');
      f.get(z).op('i32x4.add').get(l).op('i32x4.max_s').get(h).op('i32x4.min_s').set(v[k]);
    }
    // the full vector goes to y, or to scratch when fewer than 16 values are left
    f.get(n).get(i).op('i32.sub').i32(16).op('i32.lt_s').if(() => { f.get(scratch); }, () => { f.get(y); }, I32);
    f.set(dst);
    f.get(v[0]).get(v[1]).op('i16x8.narrow_i32x4_s').set(v[0]).get(v[2]).get(v[3]).op('i16x8.narrow_i32x4_s').set(v[1]);
    for (const sign of ['u', 's']) {
      const store = () => { f.get(dst).get(v[0]).get(v[1]).op(`i8x16.narrow_i16x8_${sign}`).mem('v128.store'); };
      if (sign === 'u') f.get(un).if(store);
      else f.get(un).op('i32.eqz').if(store);
    }
    f.get(dst).get(scratch).op('i32.eq').if(() => { f.get(y).get(scratch).get(n).get(i).op('i32.sub').memoryCopy(); });
    f.addTo(x, 64).addTo(y, 16);
  });
}

/** 4 values per step: bytes extended to i32, minus the zero point, to f32, times the scale. */
function emitDequantize(f: FuncBuilder): void {
  const [x, y, n, scale, zero, unsigned, scratch] = f.params;
  const i = f.local(), s = f.local(V128), z = f.local(V128), dst = f.local(), v = f.local(V128);
  f.get(scale).op('f32x4.splat').set(s);
  f.get(zero).op('i32x4.splat').set(z);
  f.forUp(i, 0, n, 4, () => {
    f.get(n).get(i).op('i32.sub').i32(4).op('i32.lt_s').if(() => { f.get(scratch); }, () => { f.get(y); }, I32);
    f.set(dst);
    f.get(unsigned).if(() => { f.get(x).mem('v128.load32_zero').op('i16x8.extend_low_i8x16_u').op('i32x4.extend_low_i16x8_u').set(v); },
      () => { f.get(x).mem('v128.load32_zero').op('i16x8.extend_low_i8x16_s').op('i32x4.extend_low_i16x8_s').set(v); });
    f.get(dst).get(v).get(z).op('i32x4.sub').op('f32x4.convert_i32x4_s').get(s).op('f32x4.mul').mem('v128.store');
    f.get(dst).get(scratch).op('i32.eq').if(() => { f.get(y).get(scratch).get(n).get(i).op('i32.sub').i32(4).op('i32.mul').memoryCopy(); });
    f.addTo(x, 4).addTo(y, 16);
  });
}

/**
 * 16 elements per step: both operands widened to four i32x4 each (x − zero), scaled,
 * summed, rounded and shifted, offset by the output zero point, clamped, narrowed.
 */
function emitAdd(f: FuncBuilder): void {
  const [a, b, y, n, za, zb, ma, mb, shift, zy, lo, hi, unsigned, scratch] = f.params;
  const i = f.local(), dst = f.local(), rnd = f.local(V128), out = f.local(V128);
  const [vza, vzb, vma, vmb, vzy, vlo, vhi] = [za, zb, ma, mb, zy, lo, hi].map((p) => {
    const v = f.local(V128);
    f.get(p).op('i32x4.splat').set(v);
    return v;
  });
  f.i32(1).get(shift).i32(1).op('i32.sub').op('i32.shl').op('i32x4.splat').set(rnd);
  const acc = [0, 1, 2, 3].map(() => f.local(V128)), bytes = [f.local(V128), f.local(V128)];
  /** The four i32x4 quarters of 16 bytes, signed or unsigned, into acc (+=) times m after subtracting z. */
  const widen = (src: Local, z: Local, m: Local, first: boolean): void => {
    for (let q = 0; q < 4; q++) {
      const half = q < 2 ? 'low' : 'high', quarter = q % 2 ? 'high' : 'low';
      f.get(unsigned).if(() => {
        f.get(src).op(`i16x8.extend_${half}_i8x16_u`).op(`i32x4.extend_${quarter}_i16x8_u`).set(bytes[1]);
      }, () => {
        f.get(src).op(`i16x8.extend_${half}_i8x16_s`).op(`i32x4.extend_${quarter}_i16x8_s`).set(bytes[1]);
      });
      f.get(bytes[1]).get(z).op('i32x4.sub').get(m).op('i32x4.mul');
      if (!first) f.get(acc[q]).op('i32x4.add');
      f.set(acc[q]);
    }
  };
  f.forUp(i, 0, n, 16, () => {
    f.get(a).get(i).op('i32.add').mem('v128.load').set(bytes[0]);
    widen(bytes[0], vza, vma, true);
    f.get(b).get(i).op('i32.add').mem('v128.load').set(bytes[0]);
    widen(bytes[0], vzb, vmb, false);
    for (let q = 0; q < 4; q++) {
      f.get(acc[q]).get(rnd).op('i32x4.add').get(shift).op('i32x4.shr_s').get(vzy).op('i32x4.add').get(vlo).op('i32x4.max_s').get(vhi).op('i32x4.min_s').set(acc[q]);
    }
    f.get(acc[0]).get(acc[1]).op('i16x8.narrow_i32x4_s').set(acc[0]).get(acc[2]).get(acc[3]).op('i16x8.narrow_i32x4_s').set(acc[1]);
    f.get(unsigned).if(() => { f.get(acc[0]).get(acc[1]).op('i8x16.narrow_i16x8_u').set(out); }, () => { f.get(acc[0]).get(acc[1]).op('i8x16.narrow_i16x8_s').set(out); });
    f.get(n).get(i).op('i32.sub').i32(16).op('i32.lt_s').if(() => { f.get(scratch); }, () => { f.get(y).get(i).op('i32.add'); }, I32);
    f.tee(dst).get(out).mem('v128.store');
    f.get(dst).get(scratch).op('i32.eq').if(() => { f.get(y).get(i).op('i32.add').get(scratch).get(n).get(i).op('i32.sub').memoryCopy(); });
  });
}

/**
 * Per plane and output row: rowbuf = the max of the window's rows in the input
 * (16 bytes at a time; the type's minimum when every row is padding), then each
 * output the max of its window's columns in rowbuf.
 */
function emitMaxPool(f: FuncBuilder, sign: 's' | 'u'): void {
  const [x, y, planes, H, W, OH, OW, kh, kw, sh, sw, dh, dw, padT, padL, rowbuf] = f.params;
  const p = f.local(), oh = f.local(), ow = f.local(), ki = f.local(), kj = f.local(), ih = f.local(), iw = f.local(), j = f.local();
  const plane = f.local(), first = f.local(), best = f.local(), v = f.local(), out = f.local(), fast = f.local(), vec = f.local();
  const maxOp = `i8x16.max_${sign}`, load = sign === 's' ? 'i32.load8_s' : 'i32.load8_u', minimum = sign === 's' ? -128 : 0;
  // 2×2 windows of stride 2 from column 0: 16 outputs from 32 bytes, even and odd bytes
  f.get(kw).i32(2).op('i32.eq').get(sw).i32(2).op('i32.eq').op('i32.and').get(dw).i32(1).op('i32.eq').op('i32.and')
    .get(padL).op('i32.eqz').op('i32.and').get(OW).i32(2).op('i32.mul').get(W).op('i32.le_s').op('i32.and').set(fast);

  f.get(y).set(out);
  f.forUp(p, 0, planes, 1, () => {
    f.get(x).get(p).get(H).op('i32.mul').get(W).op('i32.mul').op('i32.add').set(plane);
    f.forUp(oh, 0, OH, 1, () => {
      f.i32(1).set(first);
      f.forUp(ki, 0, kh, 1, () => {
        f.get(oh).get(sh).op('i32.mul').get(padT).op('i32.sub').get(ki).get(dh).op('i32.mul').op('i32.add').set(ih);
        f.get(ih).get(H).op('i32.lt_u').if(() => {
          f.get(plane).get(ih).get(W).op('i32.mul').op('i32.add').set(iw); // the input row
          f.get(first).if(() => { f.get(rowbuf).get(iw).get(W).memoryCopy(); f.i32(0).set(first); }, () => {
            f.forUp(j, 0, W, 16, () => {
              f.get(rowbuf).get(j).op('i32.add');
              f.get(rowbuf).get(j).op('i32.add').mem('v128.load').get(iw).get(j).op('i32.add').mem('v128.load').op(maxOp);
              f.mem('v128.store');
            });
          });
        });
      });
      f.get(first).if(() => { f.get(rowbuf).i32(minimum & 0xff).get(W).memoryFill(); });
      // 2×2 stride 2: 16 outputs from 32 bytes of rowbuf (even and odd bytes), written over rowbuf's
      // front (already read), then the row copied out; other windows one output at a time
      f.get(fast).if(() => {
        f.forUp(ow, 0, OW, 16, () => {
          f.get(rowbuf).get(ow).op('i32.add');
          f.get(rowbuf).get(ow).i32(2).op('i32.mul').op('i32.add').set(iw);
          f.get(iw).mem('v128.load').get(iw).mem('v128.load', 16).shuffle([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
          f.get(iw).mem('v128.load').get(iw).mem('v128.load', 16).shuffle([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]);
          f.op(maxOp).mem('v128.store');
        });
        f.get(out).get(rowbuf).get(OW).memoryCopy();
        f.addTo(out, OW);
        f.get(OW).set(vec); // nothing left for the general loop
      }, () => { f.i32(0).set(vec); });
      f.forUp(ow, vec, OW, 1, () => {
        f.i32(minimum).set(best);
        f.forUp(kj, 0, kw, 1, () => {
          f.get(ow).get(sw).op('i32.mul').get(padL).op('i32.sub').get(kj).get(dw).op('i32.mul').op('i32.add').set(iw);
          f.get(iw).get(W).op('i32.lt_u').if(() => {
            f.get(rowbuf).get(iw).op('i32.add').mem(load).set(v);
            f.get(v).get(best).get(v).get(best).op('i32.gt_s').op('select').set(best);
          });
        });
        f.get(out).get(best).mem('i32.store8').addTo(out, 1);
      });
    });
  });
}
