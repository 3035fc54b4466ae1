// Convolution benchmark: nnzip's WASM conv (im2col into packed panels + GEMM)
// against onnxruntime-node, onnxruntime-web and tfjs-wasm on LeNet-5 conv2 and a
// VGG 3×3 layer, in one process run (bench/compare.ts).
// Run: npx tsc -p . && node dist/bench/conv.js [--only=nnzip,ort-node,...]
import { WasmConv2d } from '../src/kernels/wasm/conv.js';
import { WasmGemm } from '../src/kernels/wasm/gemm.js';
import type { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { compare, parseArgs } from './compare.js';
import { contender, type Contender } from './harness.js';
import { opData, type OpTask } from './op.js';

type Conv = Extract<OpTask, { kind: 'conv' }>;

function nnzipConv(t: Conv, pool?: NodeThreadPool): Contender {
  const g = new WasmGemm({ threads: pool });
  const d = opData(t);
  const p = t.pad;
  const conv = new WasmConv2d(g, { C: t.C, M: t.M, kh: t.kh, kw: t.kw, pads: [p, p, p, p], strides: [t.stride, t.stride] }, d.w);
  const ar = g.arena;
  const [, , OH, OW] = conv.outShape(t.N, t.H, t.W);
  const x = ar.allocF32(d.x.length), y = ar.allocF32(t.N * t.M * OH * OW);
  ar.f32(x, d.x.length).set(d.x);
  return contender('nnzip-wasm', () => conv.run(t.N, t.H, t.W, x, y), { threads: pool?.size ?? 1 });
}

const TASKS: Conv[] = [
  { kind: 'conv', N: 64, C: 20, H: 12, W: 12, M: 50, kh: 5, kw: 5, pad: 0, stride: 1 }, // LeNet-5 conv2
  { kind: 'conv', N: 1, C: 64, H: 14, W: 14, M: 64, kh: 3, kw: 3, pad: 1, stride: 1 }, // VGG 3×3, batch 1
  { kind: 'conv', N: 64, C: 64, H: 14, W: 14, M: 64, kh: 3, kw: 3, pad: 1, stride: 1 }, // VGG 3×3, batch 64
];

const { only } = parseArgs(process.argv.slice(2));
for (const task of TASKS) await compare(task, (pool) => nnzipConv(task, pool), { only, rounds: 7 });
