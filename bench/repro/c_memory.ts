// Flash and RAM of models compiled to C for the Cortex-M4 (the memory report of
// `nnzip compile --target c`: arm-none-eabi-size / nm of the real build, the stack
// measured on QEMU mps2-an386), next to each model's file size and the emitted source;
// built as `compile` does by default (--optimize ram), with the arena `--optimize time` would take beside.
// Run: `npm run repro -- c-memory [MODEL.nnz|.onnx ...]` (default: the float LeNet-5 and
// LeNet-300-100 and the int8 QDQ LeNet-5 fixtures; pass the Deep Compression files
// `npm run repro -- deep-compression` or `nnzip compress` wrote to see them beside).
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { compileC } from '../../src/compile/backends/c/index.js';
import { measureCortexM4 } from '../../src/compile/backends/c/measure.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { formatBytes } from '../../src/ir/print.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { flashTotal, ramTotal } from '../../src/report/c_memory.js';
import { formatTable } from '../../src/report/table.js';
import { log } from './common.js';

const FIXTURES = ['lenet5_dense.onnx', 'lenet300_dense.onnx', 'lenet5_int8_qdq.onnx'].map((f) => new URL(`../../../fixtures/models/${f}`, import.meta.url).pathname);

export async function cMemory(args: string[]): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const path of args.length ? args : FIXTURES) {
    log(`compiling ${path} for the Cortex-M4`);
    const graph = path.endsWith('.nnz') ? nnzToGraph(readFileSync(path), path).graph : loadOnnxFile(path);
    const p = compileC(graph, { name: 'model', model: basename(path) });
    const fast = compileC(graph, { name: 'model', model: basename(path), optimize: 'time' });
    const r = measureCortexM4(p);
    const flash = flashTotal(r);
    rows.push([
      basename(path), formatBytes(statSync(path).size), flash === undefined ? '-' : formatBytes(flash),
      formatBytes(ramTotal(r)), r.arenaBytes, fast.arenaBytes, r.stackMeasured ?? '-', formatBytes(r.sourceBytes.c + r.sourceBytes.h), p.input.type,
    ]);
  }
  console.log('\nCortex-M4 (arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)\n');
  console.log(formatTable(['model', 'file', 'flash', 'RAM', 'arena B', 'arena B, --optimize time', 'stack B (QEMU)', 'NAME.c + .h', 'input'], rows));
}
