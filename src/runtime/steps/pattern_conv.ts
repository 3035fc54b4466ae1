// Pattern-pruned convolution (impl 'pattern'): the FKW arrays uploaded once, the
// per-layer generated kernel (kernels/wasm/pattern.ts). Per image: pad (through
// the fused max pool, if any) into the step's scratch, then the FKW rows. With threads (the plan's split, layout in
// compile/conv_layout.ts): chunks of whole images (several per thread), each with its own
// padded planes and accumulators; or one image in parts (WasmPatternConv.imageParts): plane and
// pairs one part per thread, whole groups of FKW rows or a range of output rows, each padding the
// input rows it reads into planes of its own; row tiles ranges of equal kernel counts of one padded
// image's FKW rows (two per thread), each with its own accumulators.
import type { ConvStep } from '../../compile/plan_types.js';
import { partsOwnPlanes, WasmPatternConv } from '../../kernels/wasm/pattern.js';
import { patternVariantKey } from '../../kernels/wasm/pattern_spec.js';
import { patternParts } from '../../compile/conv_layout.js';
import { at, imageChunkRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { sessionThreads } from './fc.js';

function prepare(s: ConvStep, env: BindEnv): WasmPatternConv {
  const p = s.pattern!, w = s.win;
  return prepared(env, s, `pattern ${patternVariantKey(p.variant)} ${p.reorder} ${p.maxPool ? 'maxpool' : ''}`, () => new WasmPatternConv(
    env.kernels.arena, { C: s.C, M: s.M, H: s.H, W: s.W, pads: [w.padT, w.padL, w.padB, w.padR] }, s.weight.data, p.format,
    { bias: s.bias, clamp: s.clamp, variant: p.variant, reorder: p.reorder, maxPool: p.maxPool, pool: env.pool }));
}

/**
 * A batch whose inputs and outputs together pass this many bytes streams them from memory: before
 * each image's conv its output lines are loaded in one burst (touch), not one miss per store of the
 * conv (VGG-S, 1 thread, batch 64: 28×28 and 14×14 layers 4–7% faster per image; batch 1 and 8,
 * whose outputs stay in the caches, 1–2% slower with it).
 */
const STREAM_BYTES = 4 << 20;

export function bindPatternConv(s: ConvStep, env: BindEnv): StepExecutor {
  const conv = prepare(s, env), L = s.layout;
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  const inImage = conv.inImageBytes, outImage = s.outImageStride * 4;
  const threads = sessionThreads(env);
  const streams = s.N * (inImage + outImage) > STREAM_BYTES;
  // Work is taken dynamically (as the sparse conv's): a worker that wakes late, or is
  // descheduled on a shared machine, leaves its item to the caller. Each item has its own
  // scratch (images) or accumulators (row ranges), so any thread may run any item.
  if (s.split > 1 && threads > 1 && L.byImages) {
    // L.sets chunks of images per round (several per thread), chunk c on set c
    return {
      run: imageChunkRunner(env.pool!, s.N, L.sets, (n0, n1, c) => {
        const pad = scratch + c * (L.plane + L.patches), acc = pad + L.plane;
        return Array.from({ length: n1 - n0 }, (_, i) => {
          const yn = y + (n0 + i) * outImage;
          return [conv.padCall(x + (n0 + i) * inImage, pad), ...(streams ? [conv.touchCall(yn, outImage)] : []), conv.convCall(pad, yn, acc)];
        }).flat();
      }),
    };
  }
  const e = conv.exports;
  if (s.split > 1 && threads > 1) {
    // one image at a time, its parts taken dynamically, each padding what it reads into its own set (plane,
    // pairs), or FKW row ranges of one padded image, each with its own accumulators (row tiles)
    const own = partsOwnPlanes(conv.variant), count = patternParts(Math.min(s.split, threads), own), parts = conv.imageParts(count);
    const acc = own ? L.patches : L.patches / count; // one part's accumulators
    const images = Array.from({ length: s.N }, (_, n) => conv.imageItems(x + n * inImage, y + n * outImage, scratch, parts, L.plane, acc));
    const pool = env.pool!;
    return {
      run: () => {
        for (let n = 0; n < s.N; n++) {
          if (!own) e.pad(x + n * inImage, scratch, 0, s.C, 0, s.OH);
          pool.runDynamic(images[n]);
        }
      },
    };
  }
  const [, , , , rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc] = conv.convCall(scratch, y, scratch + L.plane).args;
  return {
    run: () => {
      for (let n = 0; n < s.N; n++) {
        e.pad(x + n * inImage, scratch, 0, s.C, 0, s.OH);
        if (streams) e.touch(y + n * outImage, outImage);
        e.conv(scratch, y + n * outImage, 0, s.M, rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc, 0, s.OH);
      }
    },
  };
}
