// `npm run bench`: whole-model timings (bench/models.ts), then the GEMM, pruned,
// training, int8 and Winograd benchmarks, each in a process of its own. `npm run bench -- --help` prints
// the options (USAGE below).
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NnzipError } from '../src/ir/errors.js';
import { benchModels, formatModelTables, type BenchOptions, type ModelsReport } from './models.js';

export const USAGE = `usage: npm run bench -- [options]

Every figure is a ratio measured side by side in one process run (bench/harness.ts):
warm-up first, then interleaved rounds in a rotating order, the median of >= 5.
Peers: onnxruntime-node, onnxruntime-web, TF.js with its wasm backend.

  --threads 1,2      thread settings of the model tables (default 1,2)
  --models a,b       model keys: lenet300, lenet5, vggs, squeezenet, vggs-pattern (default all)
  --rounds N         timed rounds per model row, >= 5 (default 5)
  --batches 1,64     only these batch sizes (default: each model's own, 1 and 64; SqueezeNet 1)
  --json FILE        also write every number (samples included) as JSON
  --no-gemm          skip the GEMM benchmark (bench/gemm.ts)
  --no-pruned        skip pruned vs dense models (bench/pruned.ts)
  --no-train         skip training samples/s vs TF.js (bench/train.ts)
  --no-quant         skip int8 vs f32 and vs onnxruntime on the same QDQ model (bench/quant.ts)
  --no-winograd      skip per 3×3 layer im2col vs F(2,3), F(4,3), F(6,3) and the cost model's pick (bench/winograd.ts)
  --help             this text

The parts also run alone (after npx tsc -p .):
  node dist/bench/gemm.js [M N K] [--only=nnzip,ort-node,...] [--runs=N] [--tiles]
  node dist/bench/conv.js [--only=nnzip,ort-node,...]     convolutions (not in npm run bench)
  node dist/bench/pruned.js [--threads 1,2]
  node dist/bench/train.js [--rounds N] [--models lenet300,lenet5] [--json FILE]
  node dist/bench/quant.js [--threads 1,2]
  node dist/bench/winograd.js [--threads 1,2] [--rounds N] [--models vggs,squeezenet] [--calibrate]
  node dist/bench/sparse.js [--calibrate | --calibrate-conv]   sparse FC kernels (not in npm run bench)
`;

interface RunOptions extends BenchOptions {
  json?: string;
  gemm: boolean;
  pruned: boolean;
  train: boolean;
  quant: boolean;
  winograd: boolean;
  help: boolean;
}

function value(flag: string, v: string | undefined): string {
  if (!v || v.startsWith('--')) throw new NnzipError(`bench: ${flag} needs a value`);
  return v;
}

function list(flag: string, v: string | undefined): string[] {
  return value(flag, v).split(',').filter(Boolean);
}

function int(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new NnzipError(`bench: ${flag} ${value}: give an integer`);
  return n;
}

export function parseArgs(argv: string[]): RunOptions {
  const o: RunOptions = { threads: [1, 2], gemm: true, pruned: true, train: true, quant: true, winograd: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--threads') o.threads = list(flag, argv[++i]).map((v) => int(flag, v));
    else if (flag === '--models') o.models = list(flag, argv[++i]);
    else if (flag === '--batches') o.batches = list(flag, argv[++i]).map((v) => int(flag, v));
    else if (flag === '--rounds') o.rounds = int(flag, value(flag, argv[++i]));
    else if (flag === '--json') o.json = value(flag, argv[++i]);
    else if (flag === '--no-gemm') o.gemm = false;
    else if (flag === '--no-pruned') o.pruned = false;
    else if (flag === '--no-train') o.train = false;
    else if (flag === '--no-quant') o.quant = false;
    else if (flag === '--no-winograd') o.winograd = false;
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new NnzipError(`bench: unknown option ${flag}; see npm run bench -- --help`);
  }
  return o;
}

/**
 * Scripts that run their main on import (bench/gemm.ts, pruned.ts, train.ts, quant.ts,
 * winograd.ts) run in a child process of their own; their table is printed and kept for the JSON.
 */
function runScript(file: string): Promise<{ exitCode: number | null; output: string } | undefined> {
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  if (!existsSync(path)) return Promise.resolve(undefined);
  process.stdout.write('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, output }));
  });
}

function machine(): Record<string, unknown> {
  return { node: process.version, platform: process.platform, arch: process.arch, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg() };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  const t0 = performance.now();
  const load = loadavg()[0];
  // other processes competing for the cores distort every column (the ratios less so)
  if (load > cpus().length / 2) process.stderr.write(`bench: warning: the machine is busy (load ${load.toFixed(1)} on ${cpus().length} cores); timings will be noisy\n`);
  const models: ModelsReport = await benchModels(o);
  process.stdout.write(`${formatModelTables(models)}\n`);
  const gemm = o.gemm ? await runScript('gemm.js') : undefined;
  const pruned = o.pruned ? await runScript('pruned.js') : undefined;
  const train = o.train ? await runScript('train.js') : undefined;
  const quant = o.quant ? await runScript('quant.js') : undefined;
  const winograd = o.winograd ? await runScript('winograd.js') : undefined;
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`bench: done in ${seconds.toFixed(0)} s\n`);
  if (o.json) {
    const doc = { date: new Date().toISOString(), machine: machine(), options: o, seconds, models, gemm, pruned, train, quant, winograd };
    writeFileSync(o.json, `${JSON.stringify(doc, null, 2)}\n`);
    process.stdout.write(`bench: wrote ${o.json}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e) => {
      if (e instanceof NnzipError) {
        process.stderr.write(`nnzip: error: ${e.message}\n`);
        process.exit(e.exitCode);
      }
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
