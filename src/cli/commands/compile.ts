import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compileC, type CProgram } from '../../compile/backends/c/index.js';
import { measureCortexM4, unmeasured, type CMemoryReport } from '../../compile/backends/c/measure.js';
import { cIdent } from '../../compile/backends/c/writer.js';
import { fail } from '../../ir/errors.js';
import { formatMemoryReport, readme } from '../../report/c_memory.js';
import { num, oneModel, parse, str } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { Outputs } from '../outputs.js';
import { SESSION_FLAGS, sessionFlags } from '../session_flags.js';
import { WINOGRAD_TILES } from '../../ir/winograd.js';
import { C_OPTIMIZE, type COptimize } from '../../compile/ram_fit.js';

const TARGETS = ['c'];

/** A C identifier from the model's file name (lenet5-dc.nnz → lenet5_dc). */
function defaultName(path: string): string {
  return cIdent(basename(path).replace(/\.(onnx|nnz)$/i, '')).slice(0, 32);
}

function checkOutputDir(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) fail(`-o ${dir}: exists and is not a directory; choose a directory`);
  if (readdirSync(dir).length > 0 && !force) fail(`-o ${dir}: the directory is not empty; choose an empty one or pass --force to overwrite`);
}

export const compile: Command = {
  name: 'compile',
  summary: 'emit C99 for microcontrollers and native builds, with a flash/RAM report',
  usage: `usage: nnzip compile MODEL(.nnz|.onnx) --target c -o DIR [--name NAME] [--batch 1] [--winograd W] [--optimize ram|time] [--force] [--json]

Writes DIR/NAME.h (one init-free NAME_run(in, out); sizes as macros), DIR/NAME.c
(kernels specialised per layer, weights as constant arrays in their compressed
form: relative-index sparse, codebook + packed indices, fixed point grids, int8, binary / ternary
bits, pattern FKW, Winograd-transformed filters; one static arena
sized by the memory planner; no malloc, no stdio) and DIR/README.md with the
memory table. A QDQ-quantized model runs on 8-bit integers and takes and gives
int8 values (their scale and zero point are macros). The memory report comes from
the real Cortex-M4 build (arm-none-eabi-gcc, arm-none-eabi-size) and the stack
measured on QEMU (mps2-an386), when those tools are installed.

  --target T        c (the only target)
  -o, --output DIR  the directory to write (created; must be empty unless --force)
  --name NAME       C identifier of the model (default: from the file name)
  --batch N         samples per NAME_run (default 1)
  --winograd W      3×3 stride-1 convs on Winograd tiles: auto (the filters stored transformed, at
                    their tile; default), off, on (every dense one: ~3× faster, (α/3)² the filter
                    flash), or a tile ${WINOGRAD_TILES.join(' | ')}
  --optimize O      ram (default): the pattern convs copy their padded input only as far as it
                    raises no RAM peak (bands of rows, or none); time: whole padded planes, the
                    fastest on a desktop CPU (up to twice the RAM on VGG-like models)
  --force           write into a directory that is not empty (overwrites NAME.c, NAME.h, README.md)
  --no-measure      do not build for the Cortex-M4 (no flash or stack figures)
  --json            print the memory report as JSON`,
  async run(argv) {
    const p = parse('compile', argv, {
      target: { type: 'string' }, output: { type: 'string', short: 'o' }, name: { type: 'string' }, batch: { type: 'string' },
      optimize: { type: 'string' }, force: { type: 'boolean' }, 'no-measure': { type: 'boolean' }, json: { type: 'boolean' }, winograd: SESSION_FLAGS.winograd,
    });
    const path = oneModel('compile', p);
    const target = str(p, 'target') ?? fail('compile: --target is required (known targets: c)');
    if (!TARGETS.includes(target)) fail(`--target ${target}: unknown target; known targets: ${TARGETS.join(', ')}`);
    const dir = str(p, 'output') ?? fail('compile: -o DIR is required');
    checkOutputDir(dir, p.values.force === true);
    const name = str(p, 'name') ?? defaultName(path);
    const batch = num(p, 'batch', 1, 1, 65536, true);
    const model = loadModel(path);
    const { winograd } = sessionFlags(p);
    const optimize = str(p, 'optimize') ?? 'ram';
    if (!C_OPTIMIZE.includes(optimize as COptimize)) fail(`--optimize ${optimize}: use ${C_OPTIMIZE.join(' or ')}`);
    const program = compileC(model.graph, { name, batch, model: basename(path), winograd, optimize: optimize as COptimize });
    const report = writeProgram(dir, path, program, p.values['no-measure'] === true);
    printReport(p.values.json === true, { path, name, dir }, program, report);
    return 0;
  },
};

/** Measures the program and writes NAME.h, NAME.c and README.md into `dir` together (or nothing, and no new `dir`). */
function writeProgram(dir: string, model: string, program: CProgram, noMeasure: boolean): CMemoryReport {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  try {
    const files = { h: join(dir, `${program.name}.h`), c: join(dir, `${program.name}.c`), readme: join(dir, 'README.md') };
    const out = new Outputs('compile', [model], Object.values(files).map((f) => ({ flag: '-o', path: f })));
    const report = noMeasure ? unmeasured(program, 'flash and stack not measured (--no-measure)') : measureCortexM4(program);
    out.stage(files.h, program.header);
    out.stage(files.c, program.source);
    out.stage(files.readme, readme(program, report, basename(model)));
    out.commit();
    return report;
  } catch (e) {
    if (created) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function printReport(json: boolean, where: { path: string; name: string; dir: string }, program: CProgram, report: CMemoryReport): void {
  const { path, name, dir } = where;
  if (json) {
    console.log(JSON.stringify({ model: path, name, dir, input: program.input, output: program.output, ...report }, null, 2));
    return;
  }
  console.log(`${dir}: ${name}.h, ${name}.c, README.md (${program.layers.length} layers from ${path})`);
  console.log(formatMemoryReport(program, report));
}
