// Pattern-pruned convolution (impl 'pattern'): the FKW arrays uploaded once, the
// per-layer generated kernel (kernels/wasm/pattern.ts). Per image: pad (through
// the fused max pool, if any) into the step's scratch, then the FKW rows. With threads (the plan's split, layout in
// compile/conv_layout.ts): chunks of whole images (several per thread), each with its own
// padded planes and accumulators; or one image in parts (WasmPatternConv.imageParts), each a
// block of output channels of about equal kernel counts: plane and pairs one part per thread, each
// padding the input into planes of its own (a range of output rows of every filter when there are
// fewer filters than parts); row tiles two per thread of one padded image, each with its own accumulators.
import type { ConvStep } from '../../compile/plan_types.js';
import { partsOwnPlanes, WasmPatternConv } from '../../kernels/wasm/pattern.js';
import { patternVariantKey } from '../../kernels/wasm/pattern_spec.js';
import { patternParts } from '../../compile/conv_layout.js';
import { patternParams } from '../../compile/pattern_choice.js';
import { at, imageChunkRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { sessionThreads } from './fc.js';

/** `parts`: the parts one image is shared in (1 when the step runs whole images). */
function prepare(s: ConvStep, env: BindEnv, parts: number): WasmPatternConv {
  const p = s.pattern!;
  return prepared(env, s, `pattern ${patternVariantKey(p.variant)} ${p.reorder} ${p.maxPool ? 'maxpool' : ''} ${parts}`, () => new WasmPatternConv(
    env.kernels.arena, patternParams(s), s.weight.data, p.format,
    { bias: s.bias, clamp: s.clamp, variant: p.variant, reorder: p.reorder, maxPool: p.maxPool, pool: env.pool, parts }));
}

/**
 * A batch whose inputs and outputs together pass this many bytes streams them from memory: on one
 * thread, before each image's conv its output lines are loaded in one burst (touch), not one miss
 * per store of the conv (VGG-S, batch 64: the 28×28 layer 10% faster per image; batch 1 and 8,
 * whose outputs stay in the caches, 1–2% slower with it). Threads sharing the batch do not touch:
 * two cores' bursts at once made the 14×14 and 28×28 layers 2–6% slower, not faster.
 */
const STREAM_BYTES = 4 << 20;

export function bindPatternConv(s: ConvStep, env: BindEnv): StepExecutor {
  const L = s.layout, threads = sessionThreads(env), own = partsOwnPlanes(s.pattern!.variant);
  const oneImage = s.split > 1 && threads > 1 && !L.byImages;
  const conv = prepare(s, env, oneImage ? patternParts(Math.min(s.split, threads), own) : 1);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  const inImage = conv.inImageBytes, outImage = s.outImageStride * 4;
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
          return [conv.padCall(x + (n0 + i) * inImage, pad), conv.convCall(pad, yn, acc)];
        }).flat();
      }),
    };
  }
  const e = conv.exports;
  if (oneImage) {
    // one image at a time, its parts taken dynamically, each padding what it reads into its own set (plane,
    // pairs), or FKW row ranges of one padded image, each with its own accumulators (row tiles)
    const parts = conv.imageParts();
    const acc = own ? L.patches : L.patches / conv.parts; // one part's accumulators
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
  const streams = s.N * (inImage + outImage) > STREAM_BYTES;
  const [, , r0, r1, rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc, , , groups] = conv.convCall(scratch, y, scratch + L.plane).args;
  return {
    run: () => {
      for (let n = 0; n < s.N; n++) {
        e.pad(x + n * inImage, scratch, 0, s.C, 0, s.OH);
        if (streams) e.touch(y + n * outImage, outImage);
        e.conv(scratch, y + n * outImage, r0, r1, rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc, 0, s.OH, groups);
      }
    },
  };
}
