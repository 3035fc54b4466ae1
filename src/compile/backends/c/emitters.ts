// The C backend's one table: plan step kind → the emitter that writes its C.
// A new kind of step (a Winograd conv, say) adds its row here; a new weight
// format adds a storage kind in weights.ts (the fc / conv emitters read any of
// them); a new conv implementation (pattern FKW) branches inside kernels/conv.ts
// on the step's `impl`. A kind without a row cannot be compiled to C.
import { fail } from '../../../ir/errors.js';
import type { PlanStep, StepKind } from '../../plan_types.js';
import { emitConcat } from './kernels/concat.js';
import { emitConv } from './kernels/conv.js';
import { emitAffine, emitBinary, emitClamp, emitSoftmax, emitUnary } from './kernels/elementwise.js';
import { emitFc } from './kernels/fc.js';
import { emitGlobalPool, emitPool } from './kernels/pool.js';
import { emitQConv, emitQFc } from './kernels/qlayer.js';
import { emitQuant } from './kernels/quant.js';
import type { CEmitter, CLayer, CStepCtx } from './layer.js';

type EmitterTable = { [K in StepKind]?: CEmitter<Extract<PlanStep, { kind: K }>> };

export const C_EMITTERS: Readonly<EmitterTable> = {
  fc: emitFc,
  conv: emitConv,
  pool: emitPool,
  globalpool: emitGlobalPool,
  clamp: emitClamp,
  unary: emitUnary,
  binary: emitBinary,
  affine: emitAffine,
  softmax: emitSoftmax,
  concat: emitConcat,
  quantize: emitQuant,
  dequantize: emitQuant,
  fakequant: emitQuant,
  qconv: emitQConv,
  qfc: emitQFc,
  qpool: emitPool,
};

/** The step's C, or one clear error naming the node when the C backend has no kernel for it. */
export function emitStep(step: PlanStep, ctx: CStepCtx): CLayer {
  if (step.kind === 'reference') {
    fail(`compile --target c: ${ctx.where} has no C kernel (${step.why}); nothing written. Simplify the model or replace the op`);
  }
  const emit = C_EMITTERS[step.kind] as CEmitter | undefined;
  if (!emit) fail(`compile --target c: ${ctx.where} is a '${step.kind}' step, which the C backend cannot emit; nothing written`);
  return emit(step, ctx);
}
