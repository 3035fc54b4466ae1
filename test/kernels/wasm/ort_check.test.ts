// The plain references are the oracles of the WASM kernels; here they are held to
// onnxruntime-node on the ONNX semantics that are easy to get wrong (pads order,
// dilations, groups, ceil_mode, count_include_pad).
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { f32 } from '../../../src/ir/tensor.js';
import type { Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { WasmConv2d } from '../../../src/kernels/wasm/conv.js';
import { WasmGemm } from '../../../src/kernels/wasm/gemm.js';
import { WasmPool2d, type Pool2dParams } from '../../../src/kernels/wasm/pool.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { assertClose, nchw, refConv, refPool } from './helpers.js';

interface TinyNode {
  op: string;
  inputs: string[];
  attrs?: Record<string, number | number[]>;
}

/** A one-node model X → Y (weights as initializers) run by onnxruntime-node. */
async function runOrt(node: TinyNode, xDims: number[], yDims: number[], x: Float32Array,
  weights: Record<string, { dims: number[]; data: Float32Array }> = {}): Promise<Float32Array> {
  const graph = new Graph({
    inputs: [{ name: 'X', dtype: 'float32', shape: xDims }],
    outputs: [{ name: 'Y', dtype: 'float32', shape: yDims }],
    nodes: [{ name: 'n0', op: node.op, inputs: node.inputs, outputs: ['Y'], attrs: node.attrs ?? {} }],
    initializers: new Map(Object.entries(weights).map(([name, w]) => [name, f32(w.dims, w.data)])),
  });
  const session = await ort.InferenceSession.create(exportOnnx(graph));
  const out = await session.run({ X: new ort.Tensor('float32', x, xDims) });
  await session.release();
  return out.Y.data as Float32Array;
}

function windowAttrs(w: { kh: number; kw: number; pads?: readonly number[]; strides?: readonly number[]; dilations?: readonly number[] }): Record<string, number[]> {
  return { kernel_shape: [w.kh, w.kw], pads: [...(w.pads ?? [0, 0, 0, 0])], strides: [...(w.strides ?? [1, 1])], dilations: [...(w.dilations ?? [1, 1])] };
}

test('conv reference and kernel agree with onnxruntime-node', async () => {
  const rng = new Rng(41);
  const g = new WasmGemm();
  const cases: [Conv2dParams, number, number, number][] = [
    [{ C: 4, M: 6, kh: 3, kw: 2, pads: [1, 0, 2, 1], strides: [2, 1], dilations: [1, 2] }, 2, 9, 8],
    [{ C: 6, M: 4, kh: 3, kw: 3, pads: [1, 1, 1, 1], group: 2 }, 1, 5, 6],
    [{ C: 8, M: 8, kh: 3, kw: 3, pads: [1, 1, 1, 1], strides: [2, 2], group: 8 }, 1, 9, 13],
  ];
  for (const [p, N, H, W] of cases) {
    const Cg = p.C / (p.group ?? 1);
    const w = rng.floats(p.M * Cg * p.kh * p.kw), x = rng.floats(N * p.C * H * W), b = rng.floats(p.M);
    const want = refConv(p, N, H, W, x, w, b);
    const conv = new WasmConv2d(g, p, w, { bias: b });
    const yDims = conv.outShape(N, H, W);
    const node: TinyNode = { op: 'Conv', inputs: ['X', 'W', 'B'], attrs: { ...windowAttrs(p), group: p.group ?? 1 } };
    const got = await runOrt(node, [N, p.C, H, W], yDims, x, { W: { dims: [p.M, Cg, p.kh, p.kw], data: w }, B: { dims: [p.M], data: b } });
    assertClose(want, got, () => 1e-4, `conv reference vs onnxruntime ${JSON.stringify(p)}`, nchw(yDims[1], yDims[2], yDims[3]));
    assertClose(conv.conv(N, H, W, x), got, () => 1e-4, `wasm conv vs onnxruntime ${JSON.stringify(p)}`, nchw(yDims[1], yDims[2], yDims[3]));
  }
});

test('pool reference and kernel agree with onnxruntime-node (ceil_mode, count_include_pad, dilations)', async () => {
  const rng = new Rng(42);
  const arena = new WasmArena();
  const cases: Pool2dParams[] = [
    { kind: 'max', kh: 3, kw: 3, strides: [2, 2], ceil: true },
    { kind: 'max', kh: 3, kw: 2, strides: [1, 3], pads: [0, 1, 2, 1], ceil: true },
    { kind: 'max', kh: 2, kw: 3, dilations: [2, 2], pads: [1, 1, 1, 1] },
    { kind: 'avg', kh: 3, kw: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
    { kind: 'avg', kh: 3, kw: 3, strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
    { kind: 'avg', kh: 3, kw: 3, strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true, ceil: true },
    { kind: 'avg', kh: 2, kw: 2, strides: [2, 2], ceil: true },
  ];
  const [N, C, H, W] = [1, 2, 10, 11];
  for (const p of cases) {
    const x = rng.floats(N * C * H * W);
    const pool = new WasmPool2d(arena, p);
    const yDims = pool.outShape(N, C, H, W);
    const attrs: Record<string, number | number[]> = { ...windowAttrs(p), ceil_mode: p.ceil ? 1 : 0 };
    if (p.kind === 'avg') { attrs.count_include_pad = p.countIncludePad ? 1 : 0; delete attrs.dilations; }
    const got = await runOrt({ op: p.kind === 'max' ? 'MaxPool' : 'AveragePool', inputs: ['X'], attrs }, [N, C, H, W], yDims, x);
    assertClose(refPool(p, N, C, H, W, x), got, () => 1e-6, `pool reference vs onnxruntime ${JSON.stringify(p)}`, nchw(C, yDims[2], yDims[3]));
    assertClose(pool.pool(N, C, H, W, x), got, () => 1e-6, `wasm pool vs onnxruntime ${JSON.stringify(p)}`, nchw(C, yDims[2], yDims[3]));
  }
});
