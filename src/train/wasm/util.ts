// Emitter helpers shared by the training kernels.
import { uleb, type FuncBuilder, type Local } from '../../kernels/wasm/emitter.js';
import { VARIABLE } from '../../kernels/wasm/opcodes.js';

/** i32 address = base + index·4 on the stack. */
export function at(f: FuncBuilder, base: Local, index: Local): FuncBuilder {
  return f.get(base).get(index).i32(4).op('i32.mul').op('i32.add');
}

/** v128.const with four i32 lanes. */
export function i32x4(f: FuncBuilder, a: number, b: number, c: number, d: number): FuncBuilder {
  return f.raw(0xfd, ...uleb(VARIABLE['v128.const']), ...new Uint8Array(new Int32Array([a, b, c, d]).buffer));
}

/** Sum of the four lanes of a v128 (f32x4) on the stack → one f32. */
export function hsum(f: FuncBuilder, v: Local): FuncBuilder {
  return f.get(v).lane('f32x4.extract_lane', 0).get(v).lane('f32x4.extract_lane', 1).op('f32.add')
    .get(v).lane('f32x4.extract_lane', 2).get(v).lane('f32x4.extract_lane', 3).op('f32.add').op('f32.add');
}

/** The per-channel value base[c] splatted into `out`. */
export function channelSplat(f: FuncBuilder, base: Local, c: Local, out: Local): void {
  at(f, base, c).mem('f32.load').op('f32x4.splat').set(out);
}
