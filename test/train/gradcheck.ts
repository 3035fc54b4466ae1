// Test helper: central finite differences against the tape's analytic gradients
// for one op built through the trainer's op table. Loss L = Σ y·r with a fixed
// random r, so dL/dy = r; L is summed in float64.
import type { Node } from '../../src/ir/graph.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { Tape, TapeCtx } from '../../src/train/autograd.js';
import type { Backend } from '../../src/train/backend.js';
import { tsBackend } from '../../src/train/backend_ts.js';
import { trainOp } from '../../src/train/ops/index.js';
import { Rng } from '../../src/ir/random.js';

export interface CheckInput {
  name: string;
  shape: number[];
  /** Values (default U(-1, 1) from the seed). */
  values?: Float32Array;
  /** false = no gradient wanted (like the input images). */
  grad?: boolean;
}

export interface CheckSpec {
  node: Node;
  inputs: (CheckInput | null)[]; // null = absent or constant slot
  constants?: Record<string, Tensor>;
  buffers?: Record<string, Float32Array>;
  training?: boolean;
  seed?: number;
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Check at most this many elements per input (sampled, seeded). */
  maxChecks?: number;
  backend?: Backend;
}

export interface CheckResult {
  worst: number;
  where: string;
  checked: number;
}

export function gradCheck(spec: CheckSpec): CheckResult {
  const rng = new Rng(spec.seed ?? 1);
  const ctx = new TapeCtx(spec.backend ?? tsBackend, new Rng(7));
  ctx.training = spec.training ?? true;
  const tape = new Tape(ctx, true);
  // Inputs live in the tape's memory (the WASM backend runs GEMMs only there).
  const vars = spec.inputs.map((inp) => (inp ? tape.newVar(inp.name, inp.shape, inp.grad !== false) : undefined));
  const entry = trainOp(spec.node.op);
  if (!entry) throw new Error(`no train op ${spec.node.op}`);
  const outs = entry.build(spec.node, vars, {
    tape,
    constant: (n) => spec.constants?.[n],
    buffer: (n) => spec.buffers?.[n] ?? (() => { throw new Error(`no buffer ${n}`); })(),
  });
  tape.finalize();
  spec.inputs.forEach((inp, i) => {
    if (!inp) return;
    if (inp.values) vars[i]!.data.set(inp.values);
    else rng.fillUniform(vars[i]!.data, -1, 1);
  });
  const y = outs[0];
  const r = rng.fillUniform(new Float32Array(y.size), -1, 1);
  // Buffers (BN running stats) change on each train forward: restore them before each evaluation.
  const savedBuffers = Object.entries(spec.buffers ?? {}).map(([k, b]) => [k, b.slice()] as const);
  const loss = (): number => {
    for (const [k, b] of savedBuffers) spec.buffers![k].set(b);
    tape.forward();
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * r[i];
    return s;
  };
  loss();
  for (const v of vars) v?.grad?.fill(0);
  tape.zeroGrads();
  y.grad!.set(r);
  tape.backward();
  const eps = spec.eps ?? 1e-2;
  const atol = spec.atol ?? 1e-4;
  const rtol = spec.rtol ?? 1e-3;
  const result: CheckResult = { worst: 0, where: '', checked: 0 };
  vars.forEach((v, vi) => {
    if (!v || !v.grad) return;
    const analytic = v.grad.slice();
    const n = v.size;
    const max = spec.maxChecks ?? 200;
    const idx = n <= max ? [...Array(n).keys()] : Array.from({ length: max }, () => rng.int(n));
    for (const i of idx) {
      const x0 = v.data[i];
      v.data[i] = x0 + eps;
      const lp = loss();
      v.data[i] = x0 - eps;
      const lm = loss();
      v.data[i] = x0;
      const num = (lp - lm) / (2 * eps);
      const err = Math.abs(num - analytic[i]) / (atol + rtol * Math.max(Math.abs(num), Math.abs(analytic[i])));
      result.checked++;
      if (err > result.worst) {
        result.worst = err;
        result.where = `input ${vi} "${v.name}" [${v.shape}] index ${i}: numeric ${num.toPrecision(6)} vs analytic ${analytic[i].toPrecision(6)}`;
      }
    }
  });
  return result;
}

/** Values spread by at least `gap` (a shuffled ramp): no ties or kinks for max/relu within ±eps. */
export function spreadValues(n: number, seed: number, gap = 0.01): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (i - n / 2) * gap + (i >= n / 2 ? gap / 2 : -gap / 2);
  return rng.shuffle(v);
}

export function node(op: string, inputs: string[], attrs: Node['attrs'] = {}, outputs = ['y']): Node {
  return { name: `${op.toLowerCase()}_test`, op, inputs, outputs, attrs };
}
