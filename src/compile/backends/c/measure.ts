// Node-only: the memory report of a compiled model, from the real Cortex-M4 build.
// Flash per layer = the sizes `arm-none-eabi-nm` gives its function and its
// constant arrays in NAME.o (totals from `arm-none-eabi-size`); RAM = the arena
// (the planner's region, NAME.o's .bss) plus the stack, measured on QEMU by
// painting it before a run (and bounded statically from gcc's -fstack-usage).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CProgram } from './index.js';
import { harnessSource } from './harness.js';
import { armSize, armSymbols, buildM4Elf, buildM4Object, fitsMps2, hasTool, parseStackUsage, runQemu, type SectionSizes } from './toolchain.js';

export interface CMemoryLayer {
  step: string;
  op: string;
  kernel: string;
  weights: string;
  /** Bytes of its constant arrays as written (weights in their compressed form, biases, tables). */
  constBytes: number;
  /** Flash of its code and of its arrays in the Cortex-M4 object (undefined when not built). */
  code?: number;
  flashConst?: number;
  /** Arena bytes live while it runs. */
  arenaLive: number;
}

export interface CMemoryReport {
  target: string;
  layers: CMemoryLayer[];
  /** arm-none-eabi-size of NAME.o: text (code + constants), data, bss (the arena). */
  object?: { text: number; data: number; bss: number };
  /** Flash not in any layer: NAME_run, the accessors, helpers gcc kept out of line. */
  otherFlash?: number;
  arenaBytes: number;
  /** Stack bound from -fstack-usage: NAME_run's frame plus its deepest layer's. */
  stackStatic?: number;
  /** Stack NAME_run used on QEMU (mps2-an386), memcpy included. */
  stackMeasured?: number;
  sourceBytes: { c: number; h: number };
  /** Why parts are missing (a tool not installed, or --no-measure). */
  notes: string[];
}

function baseReport(p: CProgram): CMemoryReport {
  return {
    target: 'Cortex-M4 (arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)',
    layers: p.layers.map((l) => ({ step: l.step, op: l.op, kernel: l.kernel, weights: l.weights, constBytes: l.constBytes, arenaLive: l.liveBytes })),
    arenaBytes: p.arenaBytes,
    sourceBytes: { c: Buffer.byteLength(p.source), h: Buffer.byteLength(p.header) },
    notes: [],
  };
}

function objectFigures(p: CProgram, dir: string, r: CMemoryReport): SectionSizes {
  const { obj, su } = buildM4Object(dir, p.name);
  const object = armSize(obj);
  r.object = object;
  const sym = armSymbols(obj);
  let attributed = 0;
  p.layers.forEach((l, i) => {
    const arrays = new Set(l.symbols.arrays);
    const code = [...sym].filter(([n]) => (n === l.symbols.fn || n.startsWith(`${l.symbols.fn}_`)) && !arrays.has(n)).reduce((s, [, b]) => s + b, 0);
    const flashConst = l.symbols.arrays.reduce((s, n) => s + (sym.get(n) ?? 0), 0);
    r.layers[i].code = code;
    r.layers[i].flashConst = flashConst;
    attributed += code + flashConst;
  });
  r.otherFlash = object.text + object.data - attributed;
  const frames = parseStackUsage(readFileSync(su, 'utf8'));
  r.stackStatic = (frames.get(`${p.name}_run`) ?? 0) + Math.max(0, ...p.layers.map((l) => frames.get(l.symbols.fn) ?? 0));
  return object;
}

/** Runs the model once on QEMU on a zero input with the stack painted; returns the bytes NAME_run used. */
export function measureStack(p: CProgram, dir: string): number {
  writeFileSync(join(dir, 'main.c'), harnessSource(p.name));
  writeFileSync(join(dir, 'stack_in.bin'), new Uint8Array(p.input.bytes));
  const elf = buildM4Elf(dir, p.name, ['NNZ_STACK', `NNZ_IN_FILE="${join(dir, 'stack_in.bin')}"`, `NNZ_OUT_FILE="${join(dir, 'stack_out.bin')}"`]);
  const out = runQemu(elf, dir, 120_000);
  const m = /stack (\d+)/.exec(out);
  if (!m) throw new Error(`QEMU run of ${p.name} printed no stack figure:\n${out}`);
  return Number(m[1]);
}

/** Builds the program for the Cortex-M4 in a temporary folder and measures it (what the installed tools allow). */
export function measureCortexM4(p: CProgram): CMemoryReport {
  const r = baseReport(p);
  if (!hasTool('arm-none-eabi-gcc')) {
    r.notes.push('flash and stack not measured: arm-none-eabi-gcc is not installed (Debian: gcc-arm-none-eabi picolibc-arm-none-eabi)');
    return r;
  }
  const dir = mkdtempSync(join(tmpdir(), 'nnzip-c-'));
  try {
    writeFileSync(join(dir, `${p.name}.h`), p.header);
    writeFileSync(join(dir, `${p.name}.c`), p.source);
    const object = objectFigures(p, dir, r);
    if (!hasTool('qemu-system-arm')) r.notes.push('stack not measured on QEMU: qemu-system-arm is not installed (the static bound is shown)');
    else if (!fitsMps2(object)) r.notes.push('stack not measured on QEMU: the model does not fit the 4 MB memories of mps2-an386 (the static bound is shown)');
    else r.stackMeasured = measureStack(p, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

/** The report without building anything (--no-measure). */
export function unmeasured(p: CProgram, why: string): CMemoryReport {
  const r = baseReport(p);
  r.notes.push(why);
  return r;
}
