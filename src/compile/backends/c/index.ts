// The C backend: a graph (float, compressed or QDQ-quantized) → C99 source that
// runs it with the kernels and memory plan nnzip chose (compile/plan.ts, target 'c').
import { fail } from '../../../ir/errors.js';
import type { Graph } from '../../../ir/graph.js';
import { planGraph } from '../../plan.js';
import type { Plan, WinogradMode } from '../../plan_types.js';
import type { COptimize } from '../../ram_fit.js';
import { emitC, type CSource } from './emit.js';

export type { CIo, CLayerInfo, CSource } from './emit.js';
export { C_EMITTERS } from './emitters.js';

export interface CompileCOptions {
  /** C identifier of the model: NAME.h, NAME.c, NAME_run. */
  name: string;
  /** Samples per run (the input's symbolic batch dimension); default 1. */
  batch?: number;
  /** The model file, named in the sources' comments. */
  model?: string;
  /** 3×3 stride-1 convs on Winograd tiles: 'auto' (default: the weights stored transformed, at their tile), 'off', 'on' or a tile. */
  winograd?: WinogradMode;
  /** 'ram' (default): the pattern convs' padded copies never raise the arena's peak; 'time': whole padded planes, the fastest (compile/ram_fit.ts). */
  optimize?: COptimize;
}

export interface CProgram extends CSource {
  name: string;
  plan: Plan;
}

const RESERVED = new Set(['auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern', 'float', 'for',
  'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed', 'sizeof', 'static', 'struct', 'switch', 'typedef',
  'union', 'unsigned', 'void', 'volatile', 'while', 'main']);

export function checkCName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name) || RESERVED.has(name)) {
    fail(`--name ${JSON.stringify(name)}: must be a C identifier (a letter, then letters, digits or '_', at most 32) and not a C keyword`);
  }
}

/** Concrete input shapes: the symbolic batch dimension set to `batch`. */
function inputShapes(graph: Graph, batch: number): Record<string, number[]> {
  const fed = graph.inputs.filter((v) => !graph.initializers.has(v.name));
  if (fed.length !== 1) fail(`compile --target c: the model has ${fed.length} inputs (${fed.map((v) => v.name).join(', ')}); NAME_run takes exactly one`);
  const symbols = new Set(fed[0].shape.filter((d) => typeof d === 'string'));
  if (symbols.size > 1) fail(`compile --target c: input "${fed[0].name}" has ${symbols.size} symbolic dims (${[...symbols].join(', ')}); only the batch may be symbolic`);
  return { [fed[0].name]: fed[0].shape.map((d) => (typeof d === 'number' ? d : batch)) };
}

export function compileC(graph: Graph, o: CompileCOptions): CProgram {
  checkCName(o.name);
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) fail(`--batch ${batch}: give an integer >= 1`);
  if (graph.outputs.length !== 1) fail(`compile --target c: the model has ${graph.outputs.length} outputs; NAME_run gives exactly one`);
  const plan = planGraph(graph, { inputShapes: inputShapes(graph, batch), target: 'c', winograd: o.winograd, optimize: o.optimize });
  const out = plan.values.get(plan.outputs[0]);
  if (!out || out.const || out.buffer < 0) fail(`compile --target c: output "${plan.outputs[0]}" is a constant; there is nothing to run`);
  const src = emitC(plan, { name: o.name, model: o.model ?? graph.name, batch });
  return { ...src, name: o.name, plan };
}
