// The files the fuzzer mutates: small graphs that cover the op table (test/onnx/nets.ts)
// at several opsets, two real models, and their .nnz encodings: dense (raw, f16, ints),
// and compressed by the Deep Compression pipeline without data (sparse-codebook,
// codebook, sparse-f32), with and without Huffman coding, 3×3 filters stored as
// Winograd transforms (winograd), and on a grid (the grid encodings, each forced
// once: a trained net's float weights never land on a grid).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'fflate';
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION } from '../../src/compress/recipe.js';
import { encodeNnzWithReport } from '../../src/format/container.js';
import { graphToNnz } from '../../src/format/nnz.js';
import type { EncodedTensorSpec } from '../../src/format/tensor_codec.js';
import type { Graph } from '../../src/ir/graph.js';
import { graphToJson } from '../../src/ir/serialize.js';
import { transformFilters } from '../../src/ir/winograd.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { MODELS } from '../cli/helpers.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { convNet, miscNet, quantNet, sliceNet } from '../onnx/nets.js';
import { onnxToObject } from './onnx_mutate.js';
import { parseNnz, snapToGrid, type NnzModel } from './nnz_mutate.js';

export interface Seeds {
  onnx: { name: string; bytes: Uint8Array; object: ReturnType<typeof onnxToObject> }[];
  nnz: { name: string; bytes: Uint8Array; model: NnzModel }[];
}

const NETS: [string, () => Graph][] = [
  ['convNet@11', () => convNet(11)],
  ['convNet@17', () => convNet(17)],
  ['miscNet@13', () => miscNet(13)],
  ['miscNet@18', () => miscNet(18)],
  ['sliceNet@13', () => sliceNet(13)],
  ['quantNet@13', () => quantNet(13)],
];

/** Small trainable models for the compression pipeline: a CNN and an MLP. */
function smallCnn(): Graph {
  const b = new GraphBuilder(3);
  const x = b.input('x', ['N', 1, 12, 12]);
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('c1.w', [6, 1, 3, 3]), b.weight('c1.b', [6])], { kernel_shape: [3, 3] })]);
  const p1 = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.op1('Relu', [b.op1('Conv', [p1, b.weight('c2.w', [8, 6, 3, 3]), b.weight('c2.b', [8])], { kernel_shape: [3, 3] })]);
  const fc = b.op1('Gemm', [b.op1('Flatten', [c2], { axis: 1 }), b.weight('fc.w', [10, 72]), b.weight('fc.b', [10])], { transB: 1 });
  return b.build([fc], 13, 'N');
}

/** smallCnn with its 3×3 filters stored as F(2,3) and F(4,3) transforms (the winograd encoding). */
function winogradCnn(): Graph {
  const g = smallCnn();
  for (const [name, tile] of [['c1.w', 2], ['c2.w', 4]] as const) {
    const w = g.initializers.get(name)!;
    g.formats.set(name, { kind: 'winograd', tile, transformed: transformFilters(w.data as Float32Array, w.shape[0], w.shape[1], tile) });
  }
  return g;
}

function mlp(): Graph {
  const b = new GraphBuilder(4);
  const x = b.input('x', ['N', 64]);
  const h = b.op1('Relu', [b.op1('Gemm', [x, b.weight('fc1.w', [32, 64]), b.weight('fc1.b', [32])], { transB: 1 })]);
  const y = b.op1('Gemm', [h, b.weight('fc2.w', [10, 32]), b.weight('fc2.b', [10])], { transB: 1 });
  return b.build([y], 17, 'N');
}

async function compressed(g: Graph, huffman: boolean): Promise<Uint8Array> {
  const recipe = structuredClone(DEEP_COMPRESSION);
  recipe.encode.huffman = huffman;
  return (await compressGraph(g, { recipe, meta: { seed: 'fuzz' } })).file.bytes;
}

/** The net with its weights on an int8 grid per row, the smaller ones zero, stored as grid, sparse-grid and grid-ctx in turn. */
function onGrid(g: Graph): Uint8Array {
  const encodings = ['grid', 'sparse-grid', 'grid-ctx'] as const;
  let k = 0;
  const tensors: EncodedTensorSpec[] = [...g.initializers].map(([name, w]) => {
    if (w.shape.length < 2) return { name, tensor: w };
    const t = w.clone();
    const d = t.data as Float32Array;
    const mean = d.reduce((a, v) => a + Math.abs(v), 0) / d.length;
    d.forEach((v, i) => Math.abs(v) < mean && (d[i] = 0));
    snapToGrid(t, 127, true);
    return { name, tensor: t, encoding: encodings[k++ % encodings.length] };
  });
  const structure = deflateSync(new TextEncoder().encode(JSON.stringify(graphToJson(g))));
  return encodeNnzWithReport({ graph: structure, tensors }).bytes;
}

/** Builds the seeds (a few seconds: the pipeline runs k-means). `small` leaves out the real models. */
export async function makeSeeds(small = false): Promise<Seeds> {
  const onnx = NETS.map(([name, make]) => ({ name, bytes: exportOnnx(make()) }));
  const nnz: { name: string; bytes: Uint8Array }[] = [];
  for (const [name, make] of NETS) {
    nnz.push({ name: `${name} dense`, bytes: graphToNnz(make(), { meta: { seed: name } }).bytes });
    nnz.push({ name: `${name} f16`, bytes: graphToNnz(make(), { f16: true, huffman: false }).bytes });
  }
  nnz.push({ name: 'smallCnn winograd', bytes: graphToNnz(winogradCnn()).bytes });
  for (const [name, make] of [['smallCnn', smallCnn], ['mlp', mlp]] as const) {
    nnz.push({ name: `${name} compressed`, bytes: await compressed(make(), true) });
    nnz.push({ name: `${name} compressed, no Huffman`, bytes: await compressed(make(), false) });
    nnz.push({ name: `${name} on a grid`, bytes: onGrid(make()) });
  }
  if (!small) {
    for (const file of ['lenet300_dense.onnx', 'lenet5_int8_qdq.onnx']) onnx.push({ name: file, bytes: readFileSync(join(MODELS, file)) });
    nnz.push({ name: 'lenet300 compressed', bytes: await compressed(importOnnx(readFileSync(join(MODELS, 'lenet300_dense.onnx'))), true) });
  }
  return {
    onnx: onnx.map((s) => ({ ...s, object: onnxToObject(s.bytes) })),
    nnz: nnz.map((s) => ({ ...s, model: parseNnz(s.bytes) })),
  };
}
