// Running emitted C: compile a graph with the C backend, build it with the strict
// flags (or for the Cortex-M4), run the harness on samples and read the outputs
// back as floats (8-bit outputs dequantized), next to nnzip's runtime on the same samples.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC, type CProgram } from '../../../src/compile/backends/c/index.js';
import { harnessSource } from '../../../src/compile/backends/c/harness.js';
import { buildM4Elf, buildNative, hasTool, run, runQemu } from '../../../src/compile/backends/c/toolchain.js';
import type { WinogradMode } from '../../../src/compile/plan_types.js';
import type { COptimize } from '../../../src/compile/ram_fit.js';
import type { Graph } from '../../../src/ir/graph.js';
import { dequantizeValue, quantizeValue } from '../../../src/ir/quant.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { Session } from '../../../src/runtime/session.js';

export const HAS_ARM = hasTool('arm-none-eabi-gcc') && hasTool('qemu-system-arm');
export const ARM_MISSING = 'arm-none-eabi-gcc / qemu-system-arm not installed (.ci/run installs them)';

export interface CRun {
  program: CProgram;
  /** Outputs of every sample, back to back, as floats. */
  outputs: Float32Array;
  /** What the harness printed. */
  log: string;
}

/** The samples as the program's input bytes (quantized when it takes 8-bit input). */
function inputBytes(p: CProgram, samples: Float32Array): Uint8Array {
  const q = p.input.quant;
  if (!q) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = p.input.type === 'int8_t' ? new Int8Array(samples.length) : new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = quantizeValue(samples[i], q.scale, q.zero, q.lo, q.hi);
  return new Uint8Array(out.buffer);
}

function outputFloats(p: CProgram, raw: Buffer): Float32Array {
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice();
  const q = p.output.quant;
  if (!q) return new Float32Array(bytes.buffer);
  const ints = p.output.type === 'int8_t' ? new Int8Array(bytes.buffer) : bytes;
  return Float32Array.from(ints, (v) => dequantizeValue(v, q.scale, q.zero));
}

/** Compiles `graph`, builds it natively (gcc -std=c99 -O2 -Wall -Wextra -Werror) or for QEMU's Cortex-M4, and runs it on the samples. */
export function runC(graph: Graph, samples: Float32Array, o: { batch?: number; m4?: boolean; stack?: boolean; winograd?: WinogradMode; optimize?: COptimize } = {}): CRun {
  const program = compileC(graph, { name: 'model', batch: o.batch, winograd: o.winograd, optimize: o.optimize });
  const dir = mkdtempSync(join(tmpdir(), 'nnzip-ctest-'));
  try {
    writeFileSync(join(dir, 'model.h'), program.header);
    writeFileSync(join(dir, 'model.c'), program.source);
    writeFileSync(join(dir, 'main.c'), harnessSource('model'));
    writeFileSync(join(dir, 'in.bin'), inputBytes(program, samples));
    let log: string;
    if (o.m4) {
      const defines = [`NNZ_IN_FILE="${join(dir, 'in.bin')}"`, `NNZ_OUT_FILE="${join(dir, 'out.bin')}"`, ...(o.stack ? ['NNZ_STACK'] : [])];
      log = runQemu(buildM4Elf(dir, 'model', defines), dir);
    } else {
      log = run(buildNative(dir, 'model'), [join(dir, 'in.bin'), join(dir, 'out.bin')]);
    }
    return { program, outputs: outputFloats(program, readFileSync(join(dir, 'out.bin'))), log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** nnzip's runtime on the same samples (each `batch` of them one run), outputs back to back. */
export async function runNnzip(graph: Graph, samples: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await Session.create(graph, { batch: shape[0] });
  const per = shape.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  for (let at = 0; at < samples.length; at += per) {
    const out = s.run({ [graph.inputs[0].name]: new Tensor('float32', shape, samples.slice(at, at + per)) });
    parts.push(Float32Array.from(Object.values(out)[0].data as Float32Array));
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
}

/** Largest |a - b| over the largest |b|: what the tolerances below bound. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, `output lengths differ: ${a.length} vs ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return m === 0 ? d : d / m;
}

/** Indices of the largest value of each row of `classes`. */
export function top1(y: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < y.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (y[r * classes + c] > y[r * classes + best]) best = c;
    out.push(best);
  }
  return out;
}

/** Checks C against nnzip: relative error within `rtol` and, for classifiers, the same top-1 on every sample. */
export function assertAgrees(c: Float32Array, want: Float32Array, rtol: number, classes: number | undefined, label: string): void {
  const err = relativeError(c, want);
  assert.ok(err <= rtol, `${label}: C differs from nnzip's runtime by ${err.toExponential(2)} of the largest output (tolerance ${rtol})`);
  if (classes) {
    const a = top1(c, classes), b = top1(want, classes);
    const disagree = a.filter((v, i) => v !== b[i]).length;
    assert.equal(disagree, 0, `${label}: top-1 differs on ${disagree} of ${a.length} samples`);
  }
}
