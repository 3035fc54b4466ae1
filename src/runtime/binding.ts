// A plan bound to the arena: one executor per step (the table below picks it by
// step kind and kernel), where each fed input is copied in and where each
// output is read back. Binding prepares weights on first use (cached by the session).
import type { ConvStep, Plan, PlanStep, StepKind } from '../compile/plan_types.js';
import type { DType, Tensor } from '../ir/tensor.js';
import { bindAddSubConv, bindAddSubFc } from './steps/addsub.js';
import { bindBinary } from './steps/binary.js';
import { bindConcat } from './steps/concat.js';
import { bindGemmConv } from './steps/conv.js';
import { bindDepthwise } from './steps/depthwise.js';
import { bindAffine, bindClamp, bindUnary } from './steps/elementwise.js';
import { at, type BindEnv, type StepExecutor } from './steps/env.js';
import { bindDenseFc, bindSparseFc } from './steps/fc.js';
import { bindGlobalPool, bindPool } from './steps/pool.js';
import { bindPatternConv } from './steps/pattern_conv.js';
import { bindQuant } from './steps/quant.js';
import { bindQConv, bindQFc } from './steps/qlayer.js';
import { bindQPool } from './steps/qpool.js';
import { bindQAdd } from './steps/qadd.js';
import { bindReference } from './steps/reference.js';
import { bindSoftmax } from './steps/softmax.js';
import { bindSparseConv } from './steps/sparse_conv.js';
import { bindXnorConv, bindXnorFc } from './steps/xnor.js';
import { bindWinograd } from './steps/winograd.js';

type Binder<S extends PlanStep = PlanStep> = (s: S, env: BindEnv) => StepExecutor | undefined;
type StepOf<K extends StepKind> = Extract<PlanStep, { kind: K }>;

/** Conv kernel → executor. */
const CONV_BINDERS: Record<ConvStep['impl'], Binder<ConvStep>> = {
  im2col: bindGemmConv, pointwise: bindGemmConv, depthwise: bindDepthwise, csr: bindSparseConv, winograd: bindWinograd, xnor: bindXnorConv,
  addsub: bindAddSubConv, pattern: bindPatternConv,
};

/** Step kind → executor (kernel variants chosen by the step's impl). */
const BINDERS: { [K in StepKind]: Binder<StepOf<K>> } = {
  fc: (s, env) => (s.impl === 'dense' ? bindDenseFc(s, env) : s.impl === 'xnor' ? bindXnorFc(s, env) : s.impl === 'addsub' ? bindAddSubFc(s, env) : bindSparseFc(s, env)),
  conv: (s, env) => CONV_BINDERS[s.impl](s, env),
  pool: bindPool,
  globalpool: bindGlobalPool,
  clamp: bindClamp,
  unary: bindUnary,
  binary: bindBinary,
  concat: (s, env) => (s.parts.length ? bindConcat(s, env) : undefined), // all inputs written in place: nothing to run
  softmax: bindSoftmax,
  quantize: bindQuant,
  dequantize: bindQuant,
  fakequant: bindQuant,
  affine: bindAffine,
  reference: bindReference,
  qfc: bindQFc,
  qconv: bindQConv,
  qpool: bindQPool,
  qadd: bindQAdd,
};

export interface FeedSlot { name: string; at: number; dtype: DType; size: number }
export interface FetchSlot { name: string; at: number; dtype: DType; shape: number[]; size: number; const?: Tensor }

export class Binding {
  readonly steps: StepExecutor[] = [];
  /** The plan step of each executor (steps that need no code, such as a concat written in place, have none). */
  readonly stepOf: PlanStep[] = [];
  readonly feeds: FeedSlot[];
  readonly fetches: FetchSlot[];

  constructor(readonly plan: Plan, env: BindEnv, readonly epoch: number) {
    for (const s of plan.steps) {
      const e = (BINDERS[s.kind] as Binder)(s, env);
      if (e) {
        this.steps.push(e);
        this.stepOf.push(s);
      }
    }
    this.feeds = plan.inputs.map((name) => {
      const v = plan.values.get(name)!;
      return { name, at: v.buffer >= 0 ? at(env, name) : -1, dtype: v.dtype, size: v.shape.reduce((p, d) => p * d, 1) };
    });
    this.fetches = plan.outputs.map((name) => {
      const v = plan.values.get(name)!;
      return { name, at: v.const ? -1 : at(env, name), dtype: v.dtype, shape: v.shape, size: v.shape.reduce((p, d) => p * d, 1), const: v.const };
    });
  }
}

/** Binds every step once so that weights are packed before the activation region is placed (executors dropped). */
export function prepareWeights(plan: Plan, env: BindEnv): void {
  for (const s of plan.steps) (BINDERS[s.kind] as Binder)(s, env);
}
