import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fail } from '../../ir/errors.js';
import { num, parse } from '../args.js';
import type { Command } from '../command.js';
import { builtDemoPage, bundledModel, bundledRecipe } from '../models.js';
import { serveStatic } from '../serve.js';
import { compress } from './compress.js';
import { inspect } from './inspect.js';

export const demo: Command = {
  name: 'demo',
  summary: 'the main job on the bundled LeNet-5; --serve: the browser demo (draw a digit)',
  usage: `usage: nnzip demo [--serve [--port N]]

Runs Deep Compression on the bundled LeNet-5 (ONNX exported from PyTorch):
iterative pruning and weight sharing with short fine-tuning on MNIST, then
relative-index + Huffman coding into a .nnz file (in a temp folder). Prints
the per-layer table, the P / P+Q / P+Q+H sizes and the accuracy of the file.
The full-length run is \`npm run repro -- deep-compression\`.

  --serve    serve the browser demo on localhost instead (built by
             \`npm run build:web\`): draw a digit, LeNet-5 compressed (.nnz) and
             dense (.onnx) classify it in WebAssembly, with sizes and latency.
             Served cross-origin isolated, so nnzip runs on Web Workers.
  --port N   the port to serve on (default 8080; 0 picks a free one)`,
  async run(argv) {
    const p = parse('demo', argv, { serve: { type: 'boolean' }, port: { type: 'string' } });
    if (p.values.serve) return serveDemo(num(p, 'port', 8080, 0, 65535, true));
    if (p.values.port !== undefined) fail('demo: --port goes with --serve');
    const model = bundledModel('lenet5_dense.onnx');
    const out = join(mkdtempSync(join(tmpdir(), 'nnzip-demo-')), 'lenet5.nnz');
    console.log(`nnzip demo: Deep Compression of ${model}\n`);
    await inspect.run([model]);
    console.log('');
    // a one-minute version of recipes/lenet5.yaml: fewer steps, so it prunes fc1 and conv2 a little less
    const short = ['--stages', '3', '--epochs', '1', '--share-epochs', '1', '--max-steps', '250', '--density', 'fc1=0.06,conv2=0.15'];
    const code = await compress.run([model, '-o', out, '--dataset', 'mnist', '--recipe', bundledRecipe('lenet5.yaml'), ...short]);
    if (code === 0) console.log(`\nTry: nnzip inspect ${out}    nnzip validate ${out}    nnzip decompress ${out} -o lenet5_small.onnx`);
    return code;
  },
};

/** Serves the built demo page until interrupted. */
async function serveDemo(port: number): Promise<number> {
  const page = builtDemoPage();
  if (!existsSync(join(page, 'index.html'))) fail(`demo --serve: ${page} is not built; run \`npm run build:web\` first`);
  const server = await serveStatic({ mounts: { '/': dirname(page) }, port });
  console.log(`nnzip demo: serving ${server.url}/demo/ (Ctrl-C stops)`);
  await new Promise((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  await server.close();
  return 0;
}
