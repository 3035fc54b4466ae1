// One op (MatMul or Conv, f32) with seeded data, the same for every peer of
// bench/gemm.ts and bench/conv.ts: its inputs, its one-node graph (the weights an
// initializer, as onnxruntime prepacks them), its name and its FLOPs.
import { Graph } from '../src/ir/graph.js';
import { inferShapes } from '../src/ir/infer.js';
import { Rng } from '../src/ir/random.js';
import { f32 } from '../src/ir/tensor.js';

export type OpTask =
  | { kind: 'matmul'; M: number; N: number; K: number }
  | { kind: 'conv'; N: number; C: number; H: number; W: number; M: number; kh: number; kw: number; pad: number; stride: number };

/** Input X and weights W (NCHW / row-major), the same for every peer. */
export function opData(t: OpTask): { x: Float32Array; w: Float32Array; xDims: number[]; wDims: number[] } {
  const [xDims, wDims] = t.kind === 'matmul' ? [[t.M, t.K], [t.K, t.N]] : [[t.N, t.C, t.H, t.W], [t.M, t.C, t.kh, t.kw]];
  const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
  return { x: new Rng(1).floats(size(xDims)), w: new Rng(2).floats(size(wDims)), xDims, wDims };
}

/** The op as a one-node graph X → Y with W an initializer; Y's shape comes from shape inference. */
export function opGraph(t: OpTask): Graph {
  const d = opData(t);
  const attrs: Record<string, number[]> = t.kind === 'matmul' ? {} : { kernel_shape: [t.kh, t.kw], pads: [t.pad, t.pad, t.pad, t.pad], strides: [t.stride, t.stride] };
  const g = new Graph({
    name: 'op',
    inputs: [{ name: 'X', dtype: 'float32', shape: d.xDims }],
    outputs: [{ name: 'Y', dtype: 'float32', shape: [] }],
    nodes: [{ name: 'op', op: t.kind === 'matmul' ? 'MatMul' : 'Conv', inputs: ['X', 'W'], outputs: ['Y'], attrs }],
    initializers: new Map([['W', f32(d.wDims, d.w)]]),
    opset: 17,
  });
  g.outputs[0].shape = inferShapes(g).get('Y')!.shape;
  return g;
}

export function opFlops(t: OpTask): number {
  if (t.kind === 'matmul') return 2 * t.M * t.N * t.K;
  const outputs = (opGraph(t).outputs[0].shape as number[]).reduce((a, b) => a * b, 1);
  return 2 * outputs * t.C * t.kh * t.kw;
}

export function opName(t: OpTask): string {
  if (t.kind === 'matmul') return `MatMul ${t.M}×${t.K} · ${t.K}×${t.N}`;
  return `Conv N=${t.N} ${t.C}→${t.M} ${t.kh}×${t.kw} on ${t.H}×${t.W} pad ${t.pad} stride ${t.stride}`;
}
