// The fallback: a node no fast kernel covers runs on its reference kernel, its
// inputs viewed in place in the arena (constants as they are) and its outputs
// copied into their buffers. Correct for every op the reference runtime runs;
// it allocates per call, so describe() lists every node that takes this path.
import type { ReferenceStep } from '../../compile/plan_types.js';
import { NnzipError } from '../../ir/errors.js';
import { Tensor, type AnyData, type DType } from '../../ir/tensor.js';
import { getRefKernel } from '../../ir/ref/index.js';
import { at, type BindEnv, type StepExecutor } from './env.js';

interface Slot { name: string; const?: Tensor; at: number; dtype: DType; shape: number[]; size: number }

function slot(env: BindEnv, name: string): Slot {
  const v = env.plan.values.get(name);
  if (!v) throw new Error(`runtime: value "${name}" is not in the plan`);
  const size = v.shape.reduce((p, d) => p * d, 1);
  return { name, const: v.const, at: v.const ? 0 : at(env, name), dtype: v.dtype, shape: v.shape, size };
}

export function bindReference(s: ReferenceStep, env: BindEnv): StepExecutor {
  const node = s.node, views = env.views;
  const kernel = getRefKernel(node.op);
  if (!kernel) throw new NnzipError(`node "${node.name}" (${node.op}): op ${node.op} has no reference kernel`);
  const ins = node.inputs.map((n) => (n ? slot(env, n) : undefined));
  const outs = node.outputs.map((n) => (n && env.plan.values.get(n)?.buffer !== undefined && env.plan.values.get(n)!.buffer >= 0 ? slot(env, n) : undefined));
  return {
    run: () => {
      const tensors = ins.map((i) => i && (i.const ?? new Tensor(i.dtype, i.shape, views.typed(i.dtype, i.at, i.size))));
      let results: Tensor[];
      try {
        results = kernel(node, tensors);
      } catch (e) {
        if (e instanceof NnzipError) throw e;
        throw new Error(`node "${node.name}" (${node.op}): ${(e as Error).message}`, { cause: e });
      }
      outs.forEach((o, k) => {
        if (!o) return;
        const r = results[k];
        if (!r || r.size !== o.size || r.dtype !== o.dtype) {
          throw new Error(`node "${node.name}" (${node.op}): output ${k} is ${r ? `${r.dtype} [${r.shape}]` : 'missing'}, the plan expected ${o.dtype} [${o.shape}]`);
        }
        (views.typed(o.dtype, o.at, o.size) as Float32Array).set(r.data as AnyData as Float32Array);
      });
    },
  };
}
