// NAME.c and NAME.h from a plan made for target 'c': one function per step (its
// emitter's), their constant arrays, the prelude helpers they use, one static
// arena of exactly the plan's region, and NAME_run calling the steps in order with
// pointers at the planner's offsets. No malloc, no stdio, no initialisation.
import { sizeOf } from '../../../ir/tensor.js';
import type { Plan, PlanStep, PlanValue, Quant8 } from '../../plan_types.js';
import { emitStep } from './emitters.js';
import { SCRATCH, type CLayer, type CStepCtx } from './layer.js';
import { preludeFor } from './prelude.js';
import { arrayBytes, cComment, cFloat, cIdent, cInt, cType, declareArray, type CArray } from './writer.js';

/** The model's input or output as the caller sees it. */
export interface CIo {
  value: string;
  type: string;
  shape: number[];
  elements: number;
  bytes: number;
  /** Arena offset of its buffer. */
  offset: number;
  /** 8-bit form of a float graph value: its scale and zero point. */
  quant?: Quant8;
}

/** One step as compiled, for the memory report. */
export interface CLayerInfo {
  id: string;
  step: string;
  op: string;
  nodes: string[];
  kernel: string;
  weights: string;
  /** Bytes of its constant arrays (weights, biases, tables) by the arrays' own sizes. */
  constBytes: number;
  /** Names of its constant arrays and of its function (to find them in the object file). */
  symbols: { arrays: string[]; fn: string };
  /** Arena bytes of the buffers live while it runs (its scratch included). */
  liveBytes: number;
}

export interface CSource {
  header: string;
  source: string;
  layers: CLayerInfo[];
  input: CIo;
  output: CIo;
  arenaBytes: number;
}

function stepWhere(s: PlanStep): string {
  return `node "${s.name}" (${s.op})`;
}

function ioOf(plan: Plan, name: string): CIo {
  const v = plan.values.get(name)!;
  const buf = plan.memory.buffers[v.buffer];
  const q = plan.boundary.find((b) => b.value === name)?.q;
  return { value: name, type: cType(v.dtype, `value "${name}"`), shape: v.shape, elements: sizeOf(v.shape), bytes: v.bytes, offset: buf.offset + v.offset, quant: q };
}

/** A constant operand (Add's bias, a Concat part) as an array of its own. */
function constArray(id: string, k: number, v: PlanValue): CArray {
  const data = v.const!.data;
  const values = data instanceof BigInt64Array ? Array.from(data, Number) : (data as ArrayLike<number>);
  return { name: `${id}_c${k}`, type: cType(v.dtype, `constant "${v.name}"`), values, what: `constant "${cComment(v.name)}" [${v.shape.join(',')}]` };
}

function liveBytes(plan: Plan, i: number): number {
  return plan.memory.buffers.filter((b) => b.first <= i && i <= b.last).reduce((s, b) => s + b.bytes, 0);
}

interface Emitted { layer: CLayer; call: string; info: CLayerInfo; consts: CArray[] }

function emitOne(plan: Plan, s: PlanStep, i: number, used: Set<string>): Emitted {
  const id = `l${i}_${cIdent(s.name)}`.slice(0, 48);
  const ctx: CStepCtx = { plan, id, where: stepWhere(s) };
  const layer = emitStep(s, ctx);
  const consts: CArray[] = [];
  const args = layer.args.map((a) => {
    if (a === SCRATCH) return `(void *)(arena + ${s.scratchAt})`;
    const v = plan.values.get(a)!;
    if (v.const) {
      const c = constArray(id, consts.length, v);
      consts.push(c);
      return `(const void *)${c.name}`;
    }
    const at = plan.memory.buffers[v.buffer].offset + v.offset;
    return `(void *)(arena + ${at})`;
  });
  const arrays = [...layer.arrays, ...consts];
  layer.helpers.forEach((h) => used.add(h));
  const info: CLayerInfo = {
    id, step: s.name, op: s.op, nodes: s.nodes, kernel: layer.kernel, weights: layer.weights,
    constBytes: arrays.reduce((n, a) => n + arrayBytes(a), 0), symbols: { arrays: arrays.map((a) => a.name), fn: id },
    liveBytes: liveBytes(plan, i),
  };
  return { layer, call: `  ${id}(${args.join(', ')});`, info, consts };
}

function guard(name: string): string {
  return `${name.toUpperCase()}_H`;
}

function header(name: string, model: string, input: CIo, output: CIo, arena: number, batch: number): string {
  const N = name.toUpperCase();
  const io = (tag: string, x: CIo) => [
    `#define ${N}_${tag}_SIZE ${x.elements}  /* ${x.type} elements, shape [${x.shape.join(', ')}] */`,
    ...(x.quant ? [`#define ${N}_${tag}_SCALE ${cFloat(x.quant.scale)}  /* real value = (q - ZERO) * SCALE */`, `#define ${N}_${tag}_ZERO ${cInt(x.quant.zero)}`] : []),
  ];
  return [
    `/* ${name}: ${cComment(model)} compiled to C99 by nnzip (nnzip compile --target c). */`,
    `#ifndef ${guard(name)}`,
    `#define ${guard(name)}`,
    '',
    '#include <stdint.h>',
    '',
    `#define ${N}_BATCH ${batch}`,
    ...io('IN', input),
    ...io('OUT', output),
    `#define ${N}_ARENA_BYTES ${arena}  /* static activation memory (the input and output live in it) */`,
    '',
    '#ifdef __cplusplus',
    'extern "C" {',
    '#endif',
    '',
    `/* Runs the model: reads ${N}_IN_SIZE values from in, writes ${N}_OUT_SIZE to out. No initialisation;`,
    '   not reentrant (one static arena). in and out may be the arena places below (no copy then). */',
    `void ${name}_run(const ${input.type} *in, ${output.type} *out);`,
    '',
    '/* Where the input and output live in the arena: write the input there and pass these to save the copies.',
    '   The arena reuses the input\'s place once it has been read: write it again before each run. */',
    `${input.type} *${name}_input(void);`,
    `${output.type} *${name}_output(void);`,
    '',
    '#ifdef __cplusplus',
    '}',
    '#endif',
    '',
    `#endif /* ${guard(name)} */`,
    '',
  ].join('\n');
}

export interface EmitOptions {
  name: string;
  /** The model file, for comments. */
  model: string;
  batch: number;
}

export function emitC(plan: Plan, o: EmitOptions): CSource {
  const used = new Set<string>();
  const emitted = plan.steps.map((s, i) => emitOne(plan, s, i, used));
  const input = ioOf(plan, plan.inputs[0]), output = ioOf(plan, plan.outputs[0]);
  const includes = new Set(['string.h', ...emitted.flatMap((e) => e.layer.includes)]);
  if (used.has('rint') || used.has('quant')) includes.add('float.h');
  const arena = Math.max(4, plan.memory.regionBytes);
  const lines = [
    `/* ${o.name}.c: ${cComment(o.model)} compiled to C99 by nnzip. Do not edit: regenerate with nnzip compile --target c.`,
    `   ${plan.steps.length} layers, arena ${arena} bytes (memory planner), weights in their compressed form. */`,
    `#include "${o.name}.h"`,
    ...[...includes].sort().map((h) => `#include <${h}>`),
    '',
    '/* Layers stay functions of their own (the memory report sizes each); small loops are unrolled where the compiler can be asked. */',
    '#if defined(__GNUC__)',
    '#define NNZ_NOINLINE __attribute__((noinline))',
    '#else',
    '#define NNZ_NOINLINE',
    '#endif',
    '#if defined(__clang__)',
    '#define NNZ_UNROLL4 _Pragma("unroll 4")',
    '#elif defined(__GNUC__) && __GNUC__ >= 8',
    '#define NNZ_UNROLL4 _Pragma("GCC unroll 4")',
    '#else',
    '#define NNZ_UNROLL4',
    '#endif',
    '',
    ...preludeFor(used),
  ];
  for (const e of emitted) {
    lines.push(`/* ${cComment(e.info.step)} (${cComment(e.info.nodes.join(' + '))}): ${cComment(e.info.kernel)}${e.info.weights ? `; ${cComment(e.info.weights)}` : ''} */`);
    // line by line: a large layer's array has more lines than a call may take arguments
    for (const a of [...e.layer.arrays, ...e.consts]) for (const l of declareArray(a)) lines.push(l);
    lines.push(...e.layer.code, '');
  }
  lines.push(
    `/* The activation arena: every intermediate value at the offset the memory planner gave it. */`,
    `static union { float f; int32_t i; } nnz_arena_u[${Math.ceil(arena / 4)}];`,
    '#define nnz_arena ((uint8_t *)nnz_arena_u)',
    '/* The layers get their pointers from this base, read at run time: when every pointer argument is a',
    '   constant address in the arena, gcc 12 -O2 specialises each layer on them, its loop optimiser then',
    '   addresses one buffer from the other\'s induction variable, and the layer\'s stores go missing from',
    '   its side-effect summary, so a call whose output the next layer reads is deleted (valid C miscompiled). */',
    'static uint8_t *volatile nnz_arena_base = nnz_arena;',
    '',
    `${input.type} *${o.name}_input(void) { return (${input.type} *)(void *)(nnz_arena + ${input.offset}); }`,
    `${output.type} *${o.name}_output(void) { return (${output.type} *)(void *)(nnz_arena + ${output.offset}); }`,
    '',
    `void ${o.name}_run(const ${input.type} *in, ${output.type} *out) {`,
    '  uint8_t *const arena = nnz_arena_base;',
    `  if (in != ${o.name}_input()) memcpy(arena + ${input.offset}, in, ${input.bytes});`,
    ...emitted.map((e) => e.call),
    `  if (out != ${o.name}_output()) memcpy(out, arena + ${output.offset}, ${output.bytes});`,
    '}',
    '',
  );
  return {
    header: header(o.name, o.model, input, output, arena, o.batch), source: lines.join('\n'),
    layers: emitted.map((e) => e.info), input, output, arenaBytes: arena,
  };
}
