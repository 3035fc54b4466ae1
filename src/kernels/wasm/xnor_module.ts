// The binary kernels' module (one per XnorVariant): the packers and the conv, which takes
// the whole-image fast path (xnor_fast_codegen.ts) when the packer found no zero input and
// the variant has it, else the general path (xnor_codegen.ts emitConv).
import { ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, type ValType } from './opcodes.js';
import { emitConv, emitPackPlanes, emitPackRows, type XnorVariant } from './xnor_codegen.js';
import { emitConvFast, hasFastPath, XNOR_FAST_PARAMS } from './xnor_fast_codegen.js';

export const XNOR_EXPORTS = {
  /** (dst, bytes): zeroes the packed grid (its border stays zero while the interior is packed). */
  clear: 'clear',
  /**
   * (x, C, H, W, Wp, padT, padL, dst, Cw, scale, shift, flag): one image's NCHW planes into the padded grid; when
   * flag ≠ 0, the i32 at flag = 1 if an input is zero or NaN after the affine (not ±1 after the sign), else 0.
   */
  packPlanes: 'packPlanes',
  /** (x, K, rows, dst, Cw, scale, shift): rows [rows × K] (FC inputs), one pixel per row. */
  packRows: 'packRows',
  /**
   * (in, oh0, oh1, OW, sh, wts, M, a, b, bias, nW, y, ms, ps, rowCls, colCls, valid, corrX, corrN, offs, win, lo: f32, hi: f32,
   * flag, bTab):
   * outputs (m, oh, ow) for oh in [oh0, oh1) at y + 4·(m·ms + (oh·OW + ow)·ps). Per row tile: a, b,
   * bias, nW (i32 nonzero weights per row) padded to whole tiles. Border classes (xnor.ts
   * borderTables): class = rowCls[oh] + colCls[ow]; valid[class] = the nonzero count of a full
   * window there; corrX / corrN [class][M padded] (i32) = the +1 / nonzero weight bits on its padded taps;
   * offs = windowOffsets (i32); win = xnorWindowBytes of scratch (the gathered windows of two pixels).
   * The fast path (flag ≠ 0 and the i32 there 0, the variant binary and symmetric, bTab ≠ 0 (borderTables),
   * ps = 1, at least 4 outputs a channel) writes its counts where its outputs go, then the outputs.
   */
  conv: 'conv',
} as const;

export function xnorModule(v: XnorVariant): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  const i32s = (n: number): ValType[] => Array<ValType>(n).fill(I32);
  const general: ValType[] = [...i32s(21), F32, F32];
  m.func(XNOR_EXPORTS.clear, i32s(2), [], (f) => { f.get(f.params[0]).i32(0).get(f.params[1]).memoryFill(); });
  m.func(XNOR_EXPORTS.packPlanes, i32s(12), [], emitPackPlanes);
  m.func(XNOR_EXPORTS.packRows, i32s(7), [], emitPackRows);
  const exact = m.func(undefined, general, [], (f) => emitConv(f, v));
  const fast = hasFastPath(v) ? m.func(undefined, XNOR_FAST_PARAMS, [], (f) => emitConvFast(f, v)) : -1;
  m.func(XNOR_EXPORTS.conv, [...general, ...i32s(2)], [], (f) => {
    const p = f.params, [OW, ps, flag, bTab] = [p[3], p[13], p[23], p[24]];
    const callExact = () => { for (const l of p.slice(0, 23)) f.get(l); f.call(exact); };
    if (fast < 0) return callExact();
    f.get(flag).if(() => { f.get(flag).mem('i32.load').op('i32.eqz'); }, () => { f.i32(0); }, I32);
    // at least 4 outputs a channel: (oh1 − oh0)·OW ≥ 4
    f.get(p[2]).get(p[1]).op('i32.sub').get(OW).op('i32.mul').i32(4).op('i32.ge_s').op('i32.and').get(ps).i32(1).op('i32.eq').op('i32.and')
      .get(bTab).op('i32.eqz').op('i32.eqz').op('i32.and').if(() => {
      // inp, oh0, oh1, OW, sh, wts, M, a, bias, y, ms, offs, win, bTab, lo, hi
      for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 12, 19, 20, 24, 21, 22]) f.get(p[i]);
      f.call(fast);
    }, callExact);
  });
  return m.build();
}
