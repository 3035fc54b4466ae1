// The TF.js converter, op by op: small hand-built ONNX models run through
// onnxruntime-node (the oracle) and through the converted TF.js function (wasm backend).
// Cases aim at what layouts get wrong: asymmetric pads, depthwise multipliers,
// ceil-mode windows, broadcasting constants against NHWC, axes renumbered for NHWC.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrtNodePeer } from '../../../../bench/peers/ort_node.js';
import type { Feeds } from '../../../../bench/peers/peer.js';
import { ceilExtra } from '../../../../bench/peers/tfjs/ops.js';
import { createTfjsWasmPeer } from '../../../../bench/peers/tfjs/wasm.js';
import { NnzipError } from '../../../../src/ir/errors.js';
import { Rng } from '../../../../src/ir/random.js';
import { f32, i64, type Tensor } from '../../../../src/ir/tensor.js';
import { importOnnx } from '../../../../src/onnx/import.js';
import { encodeModel, type AttributeMsg, type NodeMsg, type ValueInfoMsg } from '../../../../src/onnx/onnx_proto.js';
import { tensorToProto } from '../../../../src/onnx/tensor_proto.js';

type Attrs = Record<string, number | number[] | string>;
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'epsilon']);

function node(op: string, inputs: string[], outputs: string[], attrs: Attrs = {}): NodeMsg {
  const attribute: AttributeMsg[] = Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: 7, ints: v };
    return FLOAT_ATTRS.has(name) ? { name, type: 1, f: v } : { name, type: 2, i: v };
  });
  return { op_type: op, name: `${op}_${outputs[0]}`, input: inputs, output: outputs, attribute };
}

function value(name: string, shape: number[]): ValueInfoMsg {
  return { name, type: { tensor_type: { elem_type: 1, shape: { dim: shape.map((d) => ({ dim_value: d })) } } } };
}

const rng = new Rng(7);
const rand = (shape: number[], lo = -1, hi = 1) => f32(shape, rng.floats(shape.reduce((a, b) => a * b, 1), lo, hi));

interface Case {
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  nodes: NodeMsg[];
  weights: Record<string, Tensor>;
}

function model(c: Case): Uint8Array {
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'case',
      node: c.nodes,
      input: Object.entries(c.inputs).map(([n, s]) => value(n, s)),
      output: Object.entries(c.outputs).map(([n, s]) => value(n, s)),
      initializer: Object.entries(c.weights).map(([n, t]) => tensorToProto(n, t)),
    },
  });
}

/** Runs the case through onnxruntime-node and the TF.js peer; outputs must agree to 1e-4 of their scale. */
async function check(what: string, c: Case): Promise<void> {
  const bytes = model(c);
  const feeds: Feeds = {};
  for (const [n, s] of Object.entries(c.inputs)) feeds[n] = rand(s, 0, 1);
  const ort = await createOrtNodePeer(bytes, { threads: 1 });
  const tfjs = await createTfjsWasmPeer(importOnnx(bytes, { source: `${what}.onnx` }), { threads: 1 });
  try {
    const want = await ort.run(feeds);
    const got = await tfjs.run(feeds);
    for (const name of Object.keys(c.outputs)) {
      const [g, w] = [got[name], want[name]];
      assert.deepEqual(g.shape, w.shape, `${what}: output ${name} shape [${g.shape}] vs ort-node [${w.shape}]`);
      const scale = Math.max(1e-6, ...Array.from(w.data as Float32Array, Math.abs));
      for (let i = 0; i < w.size; i++) {
        const d = Math.abs((g.data[i] as number) - (w.data[i] as number));
        assert.ok(d <= 1e-4 * scale, `${what}: output ${name}[${i}] = ${g.data[i]}, ort-node ${w.data[i]} (shape [${w.shape}])`);
      }
    }
  } finally {
    await ort.dispose();
    await tfjs.dispose();
  }
}

describe('TF.js converter vs onnxruntime-node', () => {
  it('Conv with stride 2 and asymmetric pads, Clip(0, 6) fused as relu6', () =>
    check('conv_pads', {
      inputs: { x: [2, 3, 9, 9] },
      outputs: { y: [2, 4, 5, 4] },
      nodes: [node('Conv', ['x', 'w', 'b'], ['c'], { strides: [2, 2], pads: [0, 1, 2, 0] }), node('Clip', ['c', 'lo', 'hi'], ['y'])],
      // weights large enough that some outputs pass 6
      weights: { w: rand([4, 3, 3, 3], -3, 3), b: rand([4]), lo: f32([], [0]), hi: f32([], [6]) },
    }));

  it('depthwise Conv (group = channels, multiplier 2) with asymmetric pads, then Relu', () =>
    check('depthwise', {
      inputs: { x: [1, 4, 8, 8] },
      outputs: { y: [1, 8, 9, 7] },
      nodes: [node('Conv', ['x', 'w', 'b'], ['c'], { group: 4, pads: [1, 0, 2, 1] }), node('Relu', ['c'], ['y'])],
      weights: { w: rand([8, 1, 3, 3]), b: rand([4 * 2]) },
    }));

  it('ceil-mode MaxPool with pads and ceil-mode AveragePool (padding left out of the count); two outputs', () =>
    check('pools', {
      inputs: { x: [1, 3, 11, 11] },
      outputs: { m: [1, 3, 6, 6], a: [1, 3, 6, 6] },
      nodes: [
        node('MaxPool', ['x'], ['m'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], ceil_mode: 1 }),
        node('AveragePool', ['x'], ['a'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }),
      ],
      weights: {},
    }));

  it('constants broadcast against NHWC values, Concat on channels, GlobalAveragePool, Gemm with alpha/beta, Softmax', () =>
    check('mixed', {
      inputs: { x: [2, 4, 5, 5] },
      outputs: { p: [2, 3], r: [2, 25] },
      nodes: [
        node('Conv', ['x', 'w'], ['c'], { kernel_shape: [1, 1] }),
        node('Add', ['c', 'bias'], ['s']),
        node('Mul', ['s', 'c'], ['q']),
        node('Sub', ['q', 'half'], ['d']),
        node('Concat', ['d', 'c'], ['cat'], { axis: 1 }),
        node('GlobalAveragePool', ['cat'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'gw', 'gc'], ['l'], { alpha: 0.5, beta: 2 }),
        node('Softmax', ['l'], ['p'], { axis: 1 }),
        node('ReduceMean', ['s'], ['mean'], { axes: [1], keepdims: 0 }),
        node('Reshape', ['mean', 'shape'], ['r']),
      ],
      weights: { w: rand([4, 4, 1, 1]), bias: rand([4, 1, 1]), half: f32([], [0.5]), gw: rand([8, 3]), gc: rand([1, 3]), shape: i64([2], [0, -1]) },
    }));

  it('MatMul, LeakyRelu, Sigmoid, Tanh, Div, Transpose, Clip, Softmax on axis 0, Unsqueeze/Squeeze and BatchNormalization on a pooled value', () =>
    check('misc', {
      inputs: { x: [3, 6], z: [1, 2, 4, 4] },
      outputs: { t: [4, 3], sm: [4, 3], n: [1, 2, 2, 2] },
      nodes: [
        node('MatMul', ['x', 'mw'], ['mm']),
        node('LeakyRelu', ['mm'], ['lr'], { alpha: 0.1 }),
        node('Sigmoid', ['lr'], ['sg']),
        node('Div', ['sg', 'two'], ['dv']),
        node('Tanh', ['dv'], ['th']),
        node('Unsqueeze', ['th', 'ax0'], ['u']),
        node('Squeeze', ['u', 'ax0'], ['sq']),
        node('Transpose', ['sq'], ['tt'], { perm: [1, 0] }),
        node('Clip', ['tt', 'clo', 'chi'], ['t']),
        node('Softmax', ['tt'], ['sm'], { axis: 0 }),
        node('MaxPool', ['z'], ['zp'], { kernel_shape: [2, 2], strides: [2, 2] }),
        node('BatchNormalization', ['zp', 'g', 'bb', 'mu', 'var'], ['n'], { epsilon: 1e-3 }),
      ],
      weights: {
        mw: rand([6, 4]), two: f32([], [2]), ax0: i64([1], [0]), clo: f32([], [-0.2]), chi: f32([], [0.3]),
        g: rand([2]), bb: rand([2]), mu: rand([2]), var: rand([2], 0.5, 2),
      },
    }));
});

describe('TF.js converter: what it refuses', () => {
  async function refuses(c: Case, pattern: RegExp): Promise<void> {
    const graph = importOnnx(model(c), { source: 'bad.onnx' });
    await assert.rejects(createTfjsWasmPeer(graph, { threads: 1 }), (e: unknown) => {
      assert.ok(e instanceof NnzipError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }

  it('grouped (not depthwise) Conv, runtime weights, SAME_LOWER, count_include_pad with padding', async () => {
    await refuses(
      { inputs: { x: [1, 4, 6, 6] }, outputs: { y: [1, 4, 4, 4] }, nodes: [node('Conv', ['x', 'w'], ['y'], { group: 2 })], weights: { w: rand([4, 2, 3, 3]) } },
      /node "Conv_y" \(Conv\): group=2 with 2 channels per group/,
    );
    await refuses(
      { inputs: { x: [1, 2, 6, 6], w: [2, 2, 3, 3] }, outputs: { y: [1, 2, 4, 4] }, nodes: [node('Conv', ['x', 'w'], ['y'])], weights: {} },
      /\(Conv\): the weights \(input 1 "w"\) must be a constant/,
    );
    await refuses(
      { inputs: { x: [1, 2, 6, 6] }, outputs: { y: [1, 2, 6, 6] }, nodes: [node('Conv', ['x', 'w'], ['y'], { auto_pad: 'SAME_LOWER' })], weights: { w: rand([2, 2, 3, 3]) } },
      /auto_pad=SAME_LOWER is not supported/,
    );
    await refuses(
      {
        inputs: { x: [1, 2, 6, 6] }, outputs: { y: [1, 2, 6, 6] },
        nodes: [node('AveragePool', ['x'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 })], weights: {},
      },
      /count_include_pad=1 with padding/,
    );
  });
});

describe('ceilExtra', () => {
  it('matches the ONNX ceil_mode output size (last window must start inside the input or the leading pad)', () => {
    for (let size = 1; size <= 12; size++) {
      for (const [k, s, b, e] of [[2, 2, 0, 0], [3, 2, 0, 0], [3, 2, 1, 1], [3, 3, 1, 0], [2, 1, 0, 0]]) {
        if (size + b + e < k) continue;
        let out = Math.ceil((size + b + e - k) / s) + 1;
        if ((out - 1) * s >= size + b) out--;
        const extra = ceilExtra(size, k, s, b, e);
        assert.equal(Math.floor((size + b + e + extra - k) / s) + 1, out, `size ${size} k ${k} s ${s} pads ${b},${e}: extra ${extra}`);
        assert.ok(extra >= 0 && extra < s, `extra ${extra} out of range`);
      }
    }
  });
});
