// Every benchmark peer must compute what onnxruntime-node computes on the reference
// models: this is what proves the TF.js conversion (NHWC, weight transposes, fused
// bias/ReLU, ceil-mode pools, Concat, ReduceMean) and the ONNX peers' plumbing right.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createNnzipPeer } from '../../../bench/peers/nnzip.js';
import { createOrtNodePeer } from '../../../bench/peers/ort_node.js';
import { createOrtWebPeer } from '../../../bench/peers/ort_web.js';
import type { Feeds, Peer } from '../../../bench/peers/peer.js';
import { createTfjsWasmPeer } from '../../../bench/peers/tfjs/wasm.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { f32, type Tensor } from '../../../src/ir/tensor.js';
import { loadOnnxFile } from '../../../src/onnx/load.js';

const MODELS = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));

function images(n: number, image: number[], seed: number): Feeds {
  const shape = [n, ...image];
  return { input: f32(shape, new Rng(seed).floats(shape.reduce((a, b) => a * b, 1), 0, 1)) };
}

/** |got − want| ≤ tol·max|want| everywhere, and the same argmax per row. */
function assertLogits(got: Tensor, want: Tensor, tol: number, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape [${got.shape}] vs [${want.shape}]`);
  const [rows, cols] = want.shape;
  const g = got.data as Float32Array;
  const w = want.data as Float32Array;
  const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < w.length; i++) {
    assert.ok(Math.abs(g[i] - w[i]) <= tol * scale, `${what}: logit [${Math.floor(i / cols)},${i % cols}] = ${g[i]}, ort-node ${w[i]}`);
  }
  for (let r = 0; r < rows; r++) {
    const row = (d: Float32Array) => Array.from(d.subarray(r * cols, (r + 1) * cols));
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    assert.equal(argmax(row(g)), argmax(row(w)), `${what}: row ${r} argmax differs`);
  }
}

async function compare(file: string, image: number[], n: number, make: (path: string) => Promise<Peer[]>): Promise<void> {
  const path = join(MODELS, file);
  const oracle = await createOrtNodePeer(path, { threads: 1 });
  const peers = await make(path);
  try {
    for (const seed of [1, 2]) {
      const feeds = images(n, image, seed);
      const want = (await oracle.run(feeds)).logits;
      for (const p of peers) assertLogits((await p.run(feeds)).logits, want, 1e-4, `${file} seed ${seed}: ${p.name}`);
    }
  } finally {
    for (const p of [oracle, ...peers]) await p.dispose();
  }
}

describe('benchmark peers agree with onnxruntime-node', () => {
  it('LeNet-5: ort-web, tfjs-wasm and nnzip give the same logits on 3 images', async () => {
    await compare('lenet5_dense.onnx', [1, 28, 28], 3, async (path) => {
      const graph = loadOnnxFile(path);
      return [await createOrtWebPeer(path, { threads: 1 }), await createTfjsWasmPeer(graph, { threads: 1 }), await createNnzipPeer(graph, { threads: 1 })];
    });
  });

  it('LeNet-5 from bytes or from the nnzip Graph: ort-node and ort-web take those too', async () => {
    const bytes = readFileSync(join(MODELS, 'lenet5_dense.onnx'));
    await compare('lenet5_dense.onnx', [1, 28, 28], 2, async (path) => [
      await createOrtNodePeer(bytes, { threads: 2 }),
      await createOrtWebPeer(bytes, { threads: 1 }),
      await createOrtNodePeer(loadOnnxFile(path), { threads: 1 }),
      await createOrtWebPeer(loadOnnxFile(path), { threads: 1 }),
    ]);
  });

  it('tfjs-wasm: LeNet-300-100 (Gemm with transB), VGG-S (padded 3x3 convs) and SqueezeNet 1.1 (Concat, ceil-mode pools, ReduceMean)', async () => {
    const cases: [string, number[], number][] = [
      ['lenet300_dense.onnx', [1, 28, 28], 4],
      ['vggs_fmnist_dense.onnx', [1, 28, 28], 2],
      ['squeezenet1_1_random.onnx', [3, 224, 224], 1],
    ];
    for (const [file, image, n] of cases) {
      await compare(file, image, n, async (path) => [await createTfjsWasmPeer(loadOnnxFile(path), { threads: 1 })]);
    }
  });
});

describe('benchmark peers: threads and bad input', () => {
  let tfjs: Peer;
  before(async () => {
    tfjs = await createTfjsWasmPeer(loadOnnxFile(join(MODELS, 'lenet5_dense.onnx')), { threads: 2 });
  });
  after(async () => tfjs?.dispose());

  it('tfjs-wasm reports the thread count it really runs, with a note when it is fewer than asked', () => {
    assert.ok(tfjs.threads >= 1 && tfjs.threads <= 2);
    if (tfjs.threads < 2) assert.match(tfjs.note ?? '', /asked for 2 threads/);
  });

  it('the TF.js converter names the node and op it cannot run (QDQ model)', async () => {
    const graph = loadOnnxFile(join(MODELS, 'lenet5_int8_qdq.onnx'));
    await assert.rejects(createTfjsWasmPeer(graph, { threads: 1 }), (e: unknown) => {
      assert.ok(e instanceof NnzipError, String(e));
      assert.match(e.message, /tfjs-wasm peer: node ".+" \((QuantizeLinear|DequantizeLinear)\): op not supported/);
      return true;
    });
  });

  it('a feed of the wrong rank is refused with the input named', async () => {
    await assert.rejects(tfjs.run({ input: f32([784], new Float32Array(784)) }), /input "input" wants float32 of rank 4/);
    await assert.rejects(tfjs.run({}), /no feed for input "input"/);
  });

  it('ONNX peers refuse bytes that are not a model; every peer refuses threads < 1', async () => {
    const junk = new Uint8Array([1, 2, 3, 4, 5]);
    await assert.rejects(createOrtNodePeer(junk, { threads: 1 }), (e: unknown) => e instanceof NnzipError && /ort-node peer: ONNX bytes/.test(e.message));
    await assert.rejects(createOrtWebPeer(junk, { threads: 1 }), (e: unknown) => e instanceof NnzipError && /ort-web peer: ONNX bytes/.test(e.message));
    const graph = loadOnnxFile(join(MODELS, 'lenet300_dense.onnx'));
    await assert.rejects(createNnzipPeer(graph, { threads: 0 }), /nnzip peer: threads=0/);
    await assert.rejects(createTfjsWasmPeer(graph, { threads: 1.5 }), /tfjs-wasm peer: threads=1.5/);
    await assert.rejects(createOrtNodePeer(join(MODELS, 'lenet300_dense.onnx'), { threads: -1 }), /ort-node peer: threads=-1/);
  });
});
