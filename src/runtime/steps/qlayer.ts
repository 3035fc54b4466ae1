// Integer conv and fc steps on the integer GEMM (kernels/wasm/qgemm.ts): weights
// packed once (a conv's as A panels per group, an fc's as B panels), bias,
// multipliers and the epilogue block uploaded once; per call an fc packs its
// activations as A, a conv runs im2col8 (padded with the input zero point) and
// packs the patches as B (an unpadded window packs B straight from the image), per image and group. Threads: an fc shares out its B
// panels (or its A panels when it has more: splitQGemm); a conv its images, in chunks taken dynamically (each chunk its own
// patches, panels and GEMM edge scratch), or bands of output rows (one set each).
import { setBytes } from '../../compile/conv_layout.js';
import { qconvPoolBuffers } from '../../compile/lower_int.js';
import type { IntLayer, QConvStep, QFcStep, QPoolStep } from '../../compile/plan_types.js';
import { isPointwise } from '../../ir/window.js';
import { IM2COL_EXPORTS } from '../../kernels/wasm/im2col_codegen.js';
import { epilogueBlock, packsFromImage, splitQGemm, type QGemmArgs, type WasmQGemm } from '../../kernels/wasm/qgemm.js';
import { QOUT_BYTES, QGEMM_EXPORTS } from '../../kernels/wasm/qgemm_codegen.js';
import { QOPS_EXPORTS } from '../../kernels/wasm/qops_codegen.js';
import { share, type PoolCall } from '../../kernels/wasm/thread_pool.js';
import { at, imageChunkRunner, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { bindQWinograd } from './qwinograd.js';

interface Constants { bias: number; mult: number; ep: number }

function constants(q: WasmQGemm, l: IntLayer, perRow: boolean): Constants {
  return { bias: q.upload(l.bias), mult: l.epilogue ? q.upload(l.epilogue.mult) : 0, ep: q.upload(epilogueBlock(l.epilogue, perRow)) };
}

const outBytes = (l: IntLayer): number => QOUT_BYTES[l.epilogue?.out ?? 'int32'];

export function bindQFc(s: QFcStep, env: BindEnv): StepExecutor {
  const q = env.kernels.qgemm, e = q.exports;
  const w = prepared(env, s, 'int8', () => ({ pb: q.prepackB(s.layer.weight, s.K, s.N, true), ...constants(q, s.layer, false) }));
  const x = at(env, s.inputs[0]), pa = scratchAt(env, s), xor = s.layer.input === 'uint8' ? 1 : 0;
  const { M, N, K } = s;
  const g = { pa, pb: w.pb, c: at(env, s.outputs[0]), ldc: N, M, N, K, bias: w.bias, mult: w.mult, ep: w.ep };
  if (s.split > 1 && env.pool) {
    const parts = splitQGemm(g, q.variant, s.split, outBytes(s.layer)).map((part, t) => [q.call(part, t)]);
    const runParts = poolRunner(env.pool, parts);
    return { run: () => { e.packA(x, K, M, K, pa, xor); runParts(); } };
  }
  return { run: () => { e.packA(x, K, M, K, pa, xor); q.gemmWith(g); } };
}

/**
 * A max pool fused into an im2col conv (compile/fuse.ts): the call that pools image n's conv output,
 * left at `image` in a scratch set (its row buffer after it), into the step's output.
 */
function pooling(s: QConvStep, p: QPoolStep, env: BindEnv): (image: number, n: number) => PoolCall {
  if (p.mode !== 'max' || (s.split > 1 && !s.layout.byImages)) throw new Error(`qconv ${s.name}: a fused pool needs a max pool and whole images per thread`);
  const key = env.kernels.qops().key, fn = p.dtype === 'int8' ? QOPS_EXPORTS.maxpool8s : QOPS_EXPORTS.maxpool8u;
  const y = at(env, s.outputs[0]), w = p.win, rowbuf = qconvPoolBuffers(s).image;
  return (image, n) => ({ key, fn, args: [image, y + n * s.outImageStride, s.M, s.OH, s.OW, p.OH, p.OW, w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, w.padT, w.padL, image + rowbuf] });
}

export function bindQConv(s: QConvStep, env: BindEnv): StepExecutor {
  if (s.tile) return bindQWinograd(s, env);
  const k = env.kernels, q = k.qgemm, G = s.group, Mg = s.M / G, Cg = s.C / G, w = s.win;
  const K = Cg * w.kh * w.kw, HW = s.H * s.W, eb = outBytes(s.layer);
  const packed = prepared(env, s, 'int8', () => ({
    a: Array.from({ length: G }, (_, g) => q.prepackA(s.layer.weight.subarray(g * Mg * K, (g + 1) * Mg * K), Mg, K)),
    ...constants(q, s.layer, true),
  }));
  const fused = packsFromImage(w), ic = isPointwise(w) || fused ? undefined : k.im2col();
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), xor = s.layer.input === 'uint8' ? 1 : 0, pad = s.layer.inZero & 0xff;
  const per = setBytes(s.layout), P = s.OH * s.OW, pooled = s.pool && pooling(s, s.pool, env);
  /** The calls of output rows [r0, r1) of images [n0, n1) with the scratch set at `patches`, the GEMMs' calls made by `call`. */
  const calls = (n0: number, n1: number, r0: number, r1: number, patches: number, call: (g: QGemmArgs) => PoolCall): PoolCall[] => {
    const out: PoolCall[] = [], panels = patches + s.layout.patches, rows = r1 - r0, Pt = rows * s.OW, j0 = r0 * s.OW;
    const image = panels + s.layout.panels; // a fused pool's input: this image's conv output
    const gemm = (n: number, g: number, pb: number, j: number, cols: number): PoolCall => call({
      pa: packed.a[g], pb, c: pooled ? image + g * Mg * P + j : y + (n * s.outImageStride + g * Mg * P + j) * eb, ldc: P, M: Mg, N: cols, K,
      bias: packed.bias + g * Mg * 4, mult: packed.mult && packed.mult + g * Mg * 4, ep: packed.ep,
    });
    const padT = w.padT - r0 * w.sh; // the band's top: negative = it starts inside the image
    for (let n = n0; n < n1 && rows > 0; n++) {
      for (let g = 0; g < G; g++) {
        const xg = x + (n * s.C + g * Cg) * HW;
        if (fused) {
          out.push(q.packConvCall(xg, Cg, s.H, s.W, w, s.OW, j0, Pt, panels, xor === 1));
          out.push(gemm(n, g, panels, j0, Pt));
          continue;
        }
        let src = xg + j0, ldb = P; // 1×1: the band's pixels are the input's
        if (ic) {
          out.push({ key: ic.key, fn: IM2COL_EXPORTS.im2col8, args: [xg, Cg, s.H, s.W, w.kh, w.kw, padT, w.padL, w.sh, w.sw, w.dh, w.dw, rows, s.OW, patches, pad] });
          src = patches;
          ldb = Pt;
        }
        out.push(q.packBCall(src, ldb, Pt, K, panels, xor === 1));
        out.push(gemm(n, g, panels, j0, Pt));
      }
      if (pooled) out.push(pooled(image, n));
    }
    return out;
  };
  if (s.split > 1 && env.pool && s.layout.byImages) {
    return { run: imageChunkRunner(env.pool, s.N, s.layout.sets, (n0, n1, c) => calls(n0, n1, 0, s.OH, scratchAt(env, s) + c * per, (g) => q.chunkCall(g, c))) };
  }
  if (s.split > 1 && env.pool) {
    const parts = Array.from({ length: s.split }, (_, t) => {
      const [r0, r1] = share(s.OH, s.split, t);
      return calls(0, s.N, r0, r1, scratchAt(env, s) + t * per, (g) => q.call(g, t));
    });
    return { run: poolRunner(env.pool, parts) };
  }
  // one thread: the same calls, made directly
  const list = calls(0, s.N, 0, s.OH, scratchAt(env, s), (g) => q.call(g, 0));
  const im = ic?.exports, e = q.exports, qo = k.qops().exports;
  const fns = list.map((c) => {
    const a = c.args;
    if (c.fn === IM2COL_EXPORTS.im2col8) return () => im!.im2col8(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
    if (c.fn === QOPS_EXPORTS.maxpool8s || c.fn === QOPS_EXPORTS.maxpool8u) {
      const f = c.fn === QOPS_EXPORTS.maxpool8s ? qo.maxpool8s : qo.maxpool8u;
      return () => f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
    }
    if (c.fn === QGEMM_EXPORTS.packB) return () => e.packB(a[0], a[1], a[2], a[3], a[4], a[5]);
    if (c.fn === QGEMM_EXPORTS.packConv) return () => e.packConv(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14]);
    return () => e.gemm(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]);
  });
  return { run: () => { for (let i = 0; i < fns.length; i++) fns[i](); } };
}
