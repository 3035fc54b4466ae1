// `npm run repro -- NAME [args]`: accuracy/size reproductions too long for `npm test`.
import { binary } from './binary.js';
import { cNative } from '../c_native.js';
import { cFixtures } from './c_fixtures.js';
import { cMemory } from './c_memory.js';
import { deepCompression } from './deep_compression.js';
import { filters } from './filters.js';
import { intake } from './intake.js';
import { kmeansInit } from './kmeans_init.js';
import { patternRepro } from './pattern.js';
import { pruneSchedule } from './prune_schedule.js';
import { quantization } from './quantization.js';
import { search } from './search.js';
import { winogradAccuracy } from './winograd.js';

const REPROS: Record<string, { what: string; run: (args: string[]) => Promise<void> }> = {
  'deep-compression': { what: 'Han et al. P / P+Q / P+Q+H on LeNet-300-100 and LeNet-5 (args: lenet300 | lenet5)', run: deepCompression },
  'prune-schedule': { what: 'iterative (stages, AGP) vs one-shot pruning at equal density and epochs (LeNet-300-100)', run: pruneSchedule },
  pattern: { what: 'PatDNN on VGG-S: ADMM vs one-shot, K and connectivity table (args: admm | oneshot | retrain | table; --bn, --distill A, --start FILE.nnz, --out FILE)', run: patternRepro },
  binary: { what: 'binary / ternary LeNet-5 (BWN, TWN, TTQ, XNOR) accuracy and size; xnor conv speed vs f32 on VGG-S layers (args: speed | accuracy, epochs=N, methods=..., model=lenet5|vggs)', run: binary },
  'c-memory': { what: 'flash / RAM on the Cortex-M4 of models compiled to C (args: MODEL files; default the LeNet fixtures)', run: cMemory },
  'c-fixtures': { what: 'every fixture model as stored, compiled to C, built natively and run next to nnzip (args: FILE ...)', run: cFixtures },
  'c-native': { what: 'C backend (gcc -O3 -march=native) dense / pruned / compressed vs onnxruntime-node and nnzip WASM (args: --models lenet300,lenet5,vggs; --strided: stride-2 pattern convs)', run: cNative },
  'kmeans-init': { what: 'k-means initialisation linear vs density vs random, 2-4 bits (LeNet-300-100)', run: kmeansInit },
  filters: { what: 'VGG-S Fashion-MNIST, half the filters of the wide layers removed and retrained: accuracy, size, speed vs dense (args: epochs, max steps)', run: filters },
  intake: { what: 'models pruned / shared / quantized elsewhere, compressed losslessly: size, bit-identical, accuracy (args: a case name part)', run: intake },
  quantization: { what: 'fixed point 32-4 bits ± fine-tuning (Fig. 5-13), int8 PTQ/QAT vs onnxruntime quantize_static, sizes (args: lenet5 | vggs, fixed | int8 | sizes)', run: quantization },
  search: { what: 'co-design search, LeNet-5 / MNIST or VGG-S / Fashion-MNIST: every method mixed (guided, random) vs each alone at the same loss bound, best points fine-tuned fully, a found recipe re-run by compress (args: OUT [MODEL] [BUDGET] [FINAL_STEPS] [METHODS] [SEED])', run: search },
  winograd: { what: 'VGG-S Fashion-MNIST accuracy and top-1 agreement, Winograd F(2,3)/F(4,3)/F(6,3)/auto vs direct (args: batch threads)', run: winogradAccuracy },
};

const [name, ...args] = process.argv.slice(2);
const repro = name ? REPROS[name] : undefined;
if (!repro) {
  console.log('usage: npm run repro -- NAME\n');
  for (const [k, v] of Object.entries(REPROS)) console.log(`  ${k.padEnd(20)} ${v.what}`);
  process.exitCode = name && name !== '--help' ? 2 : 0;
} else {
  await repro.run(args);
}
