// Direct depthwise convolution (group = C = M), specialised per window geometry
// (kernel, strides, dilations) so that every tap is a load at a constant offset.
// Each channel plane is first copied into a zero-padded buffer, then the output
// rows are computed 4 pixels at a time (f32x4), with a scalar tail.
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128 } from './opcodes.js';

export interface DepthwiseGeometry {
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  fma: boolean;
  shared: boolean;
}

export const DEPTHWISE_EXPORTS = {
  /**
   * (x, y, C, H, W, OH, OW, w, bias, clampAt, pbuf, PH, PW, padT, padL): bias / clampAt 0 = none;
   * pbuf holds PH×PW floats with PH = H + pads, PW = W + pads + 8 (slack for the stride-2 loads).
   */
  depthwise: 'depthwise',
} as const;

/** Columns of slack on the right of the padded buffer (vector loads may read past the last tap). */
export const DEPTHWISE_SLACK = 8;

export function depthwiseModule(g: DepthwiseGeometry): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(g.shared));
  m.func(DEPTHWISE_EXPORTS.depthwise, Array(15).fill(I32), [], (f) => emitDepthwise(f, g));
  return m.build();
}

function emitDepthwise(f: FuncBuilder, g: DepthwiseGeometry): void {
  const [x, y, C, H, W, OH, OW, w, bias, clampAt, pbuf, PH, PW, padT, padL] = f.params;
  const c = f.local(), oh = f.local(), ow = f.local(), r = f.local(), plane = f.local(), wc = f.local(), yrow = f.local();
  const owVec = f.local(), rowBytes = f.local();
  const rows = Array.from({ length: g.kh }, () => f.local()); // per tap row: pointer at the current pixel
  const acc = f.local(V128), t = f.local(V128), lo = f.local(V128), hi = f.local(V128), b = f.local(V128);
  const lo1 = f.local(F32), hi1 = f.local(F32), acc1 = f.local(F32), b1 = f.local(F32);
  f.get(clampAt).if(() => {
    f.get(clampAt).mem('v128.load32_splat', 0).set(lo).get(clampAt).mem('v128.load32_splat', 4).set(hi);
    f.get(clampAt).mem('f32.load', 0).set(lo1).get(clampAt).mem('f32.load', 4).set(hi1);
  });
  f.get(OW).get(OW).i32(3).op('i32.and').op('i32.sub').set(owVec);
  f.get(PW).i32(4).op('i32.mul').set(rowBytes);
  f.forUp(c, 0, C, 1, () => {
    // padded copy of plane c
    f.get(pbuf).i32(0).get(PH).get(rowBytes).op('i32.mul').memoryFill();
    f.get(x).get(c).get(H).op('i32.mul').get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(plane);
    f.forUp(r, 0, H, 1, () => {
      f.get(pbuf).get(r).get(padT).op('i32.add').get(rowBytes).op('i32.mul').op('i32.add').get(padL).i32(4).op('i32.mul').op('i32.add');
      f.get(plane).get(r).get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add');
      f.get(W).i32(4).op('i32.mul').memoryCopy();
    });
    f.get(w).get(c).i32(g.kh * g.kw * 4).op('i32.mul').op('i32.add').set(wc);
    f.get(bias).if(() => {
      f.get(bias).get(c).i32(4).op('i32.mul').op('i32.add').tee(r).mem('v128.load32_splat').set(b);
      f.get(r).mem('f32.load').set(b1);
    });
    f.forUp(oh, 0, OH, 1, () => {
      f.get(y).get(c).get(OH).op('i32.mul').get(oh).op('i32.add').get(OW).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(yrow);
      // rows[ki] = pbuf + (oh*sh + ki*dh) * PW * 4
      for (let ki = 0; ki < g.kh; ki++) {
        f.get(pbuf).get(oh).i32(g.sh).op('i32.mul').i32(ki * g.dh).op('i32.add').get(rowBytes).op('i32.mul').op('i32.add').set(rows[ki]);
      }
      f.forUp(ow, 0, owVec, 4, () => {
        f.get(b).set(acc);
        for (let ki = 0; ki < g.kh; ki++) {
          for (let kj = 0; kj < g.kw; kj++) {
            loadTaps(f, g, rows[ki], kj * g.dw * 4, t);
            f.get(wc).mem('v128.load32_splat', (ki * g.kw + kj) * 4);
            if (g.fma) f.get(acc).op('f32x4.relaxed_madd').set(acc);
            else f.op('f32x4.mul').get(acc).op('f32x4.add').set(acc);
          }
        }
        f.get(clampAt).if(() => { f.get(acc).clampTo(lo, hi).set(acc); });
        f.get(yrow).get(acc).mem('v128.store').addTo(yrow, 16);
        for (const p of rows) f.addTo(p, 4 * 4 * g.sw);
      });
      f.forUp(ow, owVec, OW, 1, () => {
        f.get(b1).set(acc1);
        for (let ki = 0; ki < g.kh; ki++) {
          for (let kj = 0; kj < g.kw; kj++) {
            f.get(rows[ki]).mem('f32.load', kj * g.dw * 4).get(wc).mem('f32.load', (ki * g.kw + kj) * 4).op('f32.mul');
            f.get(acc1).op('f32.add').set(acc1);
          }
        }
        f.get(clampAt).if(() => { f.get(acc1).get(lo1).op('f32.max').get(hi1).op('f32.min').set(acc1); });
        f.get(yrow).get(acc1).mem('f32.store').addTo(yrow, 4);
        for (const p of rows) f.addTo(p, 4 * g.sw);
      });
    });
  });
}

/** Pushes the 4 input values of 4 adjacent output pixels for one tap (pixel stride sw; shared with pool_codegen). */
export function loadTaps(f: FuncBuilder, g: { sw: number }, row: Local, offset: number, tmp: Local): void {
  if (g.sw === 1) {
    f.get(row).mem('v128.load', offset);
  } else if (g.sw === 2) {
    f.get(row).mem('v128.load', offset).get(row).mem('v128.load', offset + 16).shuffle32(0, 2, 4, 6);
  } else {
    // gather: lane 0 then lanes 1..3 (v128.load32_lane takes [address, vector])
    f.get(row).mem('v128.load32_zero', offset);
    for (let l = 1; l < 4; l++) f.set(tmp).get(row).get(tmp).memLane('v128.load32_lane', offset + l * g.sw * 4, l);
  }
}
