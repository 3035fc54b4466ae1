// Bad input gives one clear line naming the file (and node/tensor): truncated files,
// random bytes, protobufs that are not ONNX, unsupported ops/opsets/types, bad graphs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { NnzipError } from '../../src/ir/errors.js';
import { Rng } from '../../src/ir/random.js';
import { Tensor, f32 } from '../../src/ir/tensor.js';
import { importOnnx } from '../../src/onnx/import.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { encodeModel } from '../../src/onnx/onnx_proto.js';
import { attrInt, attrInts, fixture, init, onnxModel, onnxNode, vi } from './helpers.js';

/** Asserts an NnzipError (exit code 2) with a one-line message matching `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NnzipError, `expected NnzipError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

const tiny = (opset: number, nodes = [onnxNode('Relu', ['x'], ['y'])], extra: object = {}) =>
  onnxModel({ opset, nodes, inputs: [vi('x', 'float32', [1, 4])], outputs: [vi('y', 'float32', [1, 4])], ...extra });

test('truncated files are refused, naming the file', () => {
  const bytes = readFileSync(fixture('lenet5_dense'));
  for (const cut of [3, 1000, bytes.length >> 1, bytes.length - 1]) {
    rejects(() => importOnnx(bytes.subarray(0, cut), { source: 'lenet5.onnx' }), /^lenet5\.onnx: not a valid ONNX model: protobuf decoding failed .*truncated or not ONNX$/);
  }
  const dir = mkdtempSync(join(tmpdir(), 'nnzip-bad-'));
  try {
    const path = join(dir, 'cut.onnx');
    writeFileSync(path, bytes.subarray(0, 5000));
    rejects(() => loadOnnxFile(path), new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid ONNX model`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('random bytes are refused', () => {
  const rng = new Rng(99);
  for (let i = 0; i < 20; i++) {
    const bytes = Uint8Array.from({ length: 64 + rng.int(4000) }, () => rng.int(256));
    rejects(() => importOnnx(bytes, { source: 'noise.onnx' }), /^noise\.onnx: not (a valid|an) ONNX model/);
  }
  rejects(() => importOnnx(new Uint8Array(0), { source: 'empty.onnx' }), /^empty\.onnx: not an ONNX model: it holds no graph/);
});

test('a protobuf that parses but is not an ONNX model is refused', () => {
  const other = protobuf.Writer.create().uint32((50 << 3) | 2).string('some other message').uint32((51 << 3) | 0).uint32(7).finish();
  rejects(() => importOnnx(other, { source: 'other.pb' }), /^other\.pb: not an ONNX model: it holds no graph/);
  const noGraph = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], producer_name: 'x' });
  rejects(() => importOnnx(noGraph), /^model\.onnx: not an ONNX model: it holds no graph/);
});

test('opsets outside 11–18 are refused with the re-export hint', () => {
  rejects(() => importOnnx(tiny(9)), /^model\.onnx: opset 9 is not supported \(nnzip reads opsets 11–18\); re-export with opset_version=17$/);
  rejects(() => importOnnx(tiny(19)), /^model\.onnx: opset 19 is not supported/);
  const noDefault = encodeModel({ ir_version: 8, opset_import: [{ domain: 'com.microsoft', version: 1 }], graph: { node: [{ op_type: 'Relu', input: ['x'], output: ['y'] }] } });
  rejects(() => importOnnx(noDefault), /imports no default-domain opset/);
});

test('unsupported ops, domains and data types name the node or tensor', () => {
  rejects(() => importOnnx(tiny(17, [onnxNode('Foo', ['x'], ['y'], [], 'x1')]), { source: 'm.onnx' }),
    /^m\.onnx: node "x1" \(Foo\): op Foo is not supported; supported ops: .*Conv.*$/);
  rejects(() => importOnnx(tiny(17, [{ ...onnxNode('Gelu', ['x'], ['y'], [], 'g'), domain: 'com.microsoft' }])),
    /node "g" \(Gelu\): op Gelu from domain "com\.microsoft" is not supported/);
  // a quantized op nnzip cannot run: named, with the quantized ops it runs
  rejects(() => importOnnx(tiny(17, [onnxNode('DynamicQuantizeLinear', ['x'], ['y', 's', 'z'], [], 'dq')])),
    /node "dq" \(DynamicQuantizeLinear\): quantized op DynamicQuantizeLinear is not supported; the quantized ops nnzip runs: QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger/);
  rejects(() => importOnnx(tiny(17, [{ ...onnxNode('QLinearAdd', ['x'], ['y'], [], 'qa'), domain: 'com.microsoft' }])),
    /op QLinearAdd from domain "com\.microsoft" is not supported .*; the quantized ops nnzip runs: /);
  const half = { ...init('w', new Tensor('uint16', [4])), data_type: 10 };
  rejects(() => importOnnx(tiny(17, [onnxNode('Add', ['x', 'w'], ['y'])], { initializers: [half] })),
    /^model\.onnx: tensor "w" has data type FLOAT16, which nnzip does not support/);
  const short = { ...init('w', f32([4], [1, 2, 3, 4])), dims: [5] };
  rejects(() => importOnnx(tiny(17, [onnxNode('Add', ['x', 'w'], ['y'])], { initializers: [short] })),
    /tensor "w" has 16 bytes of data, but float32\[5\] needs 20/);
});

test('inconsistent graphs name the node', () => {
  const conv = onnxModel({
    opset: 17,
    inputs: [vi('x', 'float32', [1, 64, 8, 8])],
    outputs: [vi('y', 'float32', [1, 6, 6, 6])],
    initializers: [init('w', f32([6, 21, 3, 3]))],
    nodes: [onnxNode('Conv', ['x', 'w'], ['y'], [attrInt('group', 3), attrInts('kernel_shape', [3, 3])], 'conv2')],
  });
  rejects(() => importOnnx(conv), /^model\.onnx: node "conv2" \(Conv\): group=3 does not divide 64 input channels$/);
  rejects(() => importOnnx(tiny(17, [onnxNode('Relu', ['x'], ['y'], [attrInt('alpha', 1)], 'r')])),
    /^model\.onnx: node "r" \(Relu\): unknown attribute "alpha" \(Relu has no attributes\)$/);
  rejects(() => importOnnx(tiny(17, [onnxNode('Relu', ['nope'], ['y'], [], 'r')])),
    /node "r" \(Relu\): input "nope" is not produced by an earlier node/);
  const badOut = onnxModel({ opset: 17, inputs: [vi('x', 'float32', [1, 4])], outputs: [vi('y', 'float32', [1, 5])], nodes: [onnxNode('Relu', ['x'], ['y'])] });
  rejects(() => importOnnx(badOut), /output "y" is declared float32\[1,5\] but computes float32\[1,4\]/);
  const dyn = onnxModel({
    opset: 17,
    inputs: [vi('x', 'float32', [1, 4]), vi('s', 'int64', [2])],
    outputs: [vi('y', 'float32', [2, 2])],
    nodes: [onnxNode('Reshape', ['x', 's'], ['y'], [], 'rs')],
  });
  rejects(() => importOnnx(dyn), /node "rs" \(Reshape\): shape input "s" must be a constant/);
});

test('a missing file is reported as such', () => {
  rejects(() => loadOnnxFile('no/such/model.onnx'), /^no\/such\/model\.onnx: no such file$/);
});

// found by the fuzzer (test/fuzz): each used to end in a TypeError or load and fail at run()
test('a STRING attribute without its value reads as the empty string; an op with too few inputs is refused before translation', () => {
  const pool = onnxModel({
    opset: 17,
    inputs: [vi('x', 'float32', [1, 1, 4, 4])],
    outputs: [vi('y', 'float32', [1, 1, 2, 2])],
    nodes: [onnxNode('MaxPool', ['x'], ['y'], [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2]), { name: 'auto_pad', type: 3 }], 'p')],
  });
  rejects(() => importOnnx(pool), /^model\.onnx: node "p" \(MaxPool\): auto_pad="" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID$/);
  rejects(() => importOnnx(tiny(17, [onnxNode('Slice', ['x'], ['y'], [], 's')])), /^model\.onnx: node "s" \(Slice\): has 1 inputs, Slice takes 3 to 5$/);
});

// seed 1 of the long ONNX run, cases 8882 (Transpose), 9335 (BatchNormalization) and 9644 (Conv):
// an attribute named "constructor" found Object.prototype's in the op's schema (TypeError)
test('attributes named like Object.prototype members are unknown attributes, not TypeErrors', () => {
  const relu = (name: string) => tiny(17, [onnxNode('Relu', ['x'], ['y'], [attrInt(name, 1)], 'r')]);
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    rejects(() => importOnnx(relu(name)), new RegExp(`^model\\.onnx: node "r" \\(Relu\\): unknown attribute "${name}" \\(Relu has no attributes\\)$`));
  }
  const one = (op: string, inputs: string[], x: number[], inits: ReturnType<typeof init>[], attrs: object[]) =>
    onnxModel({ opset: 17, inputs: [vi('x', 'float32', x)], outputs: [{ name: 'y' }], initializers: inits, nodes: [onnxNode(op, inputs, ['y'], attrs, 'n')] });
  const c = [init('s', f32([2])), init('b', f32([2])), init('m', f32([2])), init('v', f32([2]))];
  const models: [string, Uint8Array][] = [
    ['Transpose', one('Transpose', ['x'], [2, 3], [], [attrInts('perm', [1, 0]), attrInt('constructor', 0)])],
    ['BatchNormalization', one('BatchNormalization', ['x', 's', 'b', 'm', 'v'], [1, 2, 3, 3], c, [attrInt('constructor', 7)])],
    ['Conv', one('Conv', ['x', 'w'], [1, 1, 5, 5], [init('w', f32([2, 1, 3, 3]))], [attrInts('constructor', [1, 2]), attrInts('kernel_shape', [3, 3])])],
  ];
  for (const [op, m] of models) rejects(() => importOnnx(m), new RegExp(`^model\\.onnx: node "n" \\(${op}\\): unknown attribute "constructor" \\(${op} has `));
});

test('a graph without outputs, and negative or oversized dims, are refused at import', () => {
  rejects(() => importOnnx(tiny(17, undefined, { outputs: [] })), /^model\.onnx: the graph declares no outputs; export the model with its outputs$/);
  rejects(() => importOnnx(onnxModel({ opset: 17, inputs: [vi('x', 'float32', [1, -5])], outputs: [vi('y', 'float32', [1, 4])], nodes: [onnxNode('Relu', ['x'], ['y'])] })),
    /^model\.onnx: input "x": dimension 1 is -5; give a size ≥ 0, or a dim_param for an unknown one$/);
  // -1 is what some exporters write for an unknown dim: a symbol, as dim_param would be
  const unknown = importOnnx(onnxModel({ opset: 17, inputs: [vi('x', 'float32', [-1, 4])], outputs: [vi('y', 'float32', [-1, 4])], nodes: [onnxNode('Relu', ['x'], ['y'])] }));
  assert.deepEqual(unknown.inputs[0].shape, ['x_d0', 4]);
});

test('type mismatches are refused at import, naming the input (not at run())', () => {
  const withInit = (op: string, t: Tensor, inputs = ['x', 'w'], x = vi('x', 'float32', [2, 4])) =>
    onnxModel({ opset: 17, inputs: [x], outputs: [{ name: 'y' }], initializers: [init('w', t)], nodes: [onnxNode(op, inputs, ['y'], [], 'n')] });
  rejects(() => importOnnx(withInit('MatMul', new Tensor('int64', [4, 3]))), /^model\.onnx: node "n" \(MatMul\): input 1 \("w"\) is int64; MatMul takes float32 or float64$/);
  rejects(() => importOnnx(withInit('MatMul', new Tensor('float64', [4, 3]))), /node "n" \(MatMul\): input 1 \("w"\) is float64 but input 0 is float32; they must have one type \(insert a Cast\)/);
  rejects(() => importOnnx(withInit('Conv', new Tensor('int8', [2, 1, 3, 3]), ['x', 'w'], vi('x', 'float32', [1, 1, 5, 5]))), /node "n" \(Conv\): input 1 \("w"\) is int8; Conv takes float32 or float64/);
  rejects(() => importOnnx(withInit('Softmax', new Tensor('int32', [2, 3]), ['w'])), /node "n" \(Softmax\): input 0 \("w"\) is int32; Softmax takes float32 or float64/);
  rejects(() => importOnnx(withInit('Sigmoid', new Tensor('int32', [2, 3]), ['w'])), /Sigmoid takes float32 or float64/);
});

test('boolean attributes must be 0 or 1', () => {
  const gemm = (attr: string, v: number) =>
    onnxModel({ opset: 17, inputs: [vi('x', 'float32', [2, 4])], outputs: [{ name: 'y' }], initializers: [init('w', f32([4, 3]))], nodes: [onnxNode('Gemm', ['x', 'w'], ['y'], [attrInt(attr, v)], 'g')] });
  rejects(() => importOnnx(gemm('transA', 2)), /^model\.onnx: node "g" \(Gemm\): attribute transA must be 0 or 1, got 2$/);
  const pool = (v: number) => onnxModel({
    opset: 17, inputs: [vi('x', 'float32', [1, 1, 5, 5])], outputs: [{ name: 'y' }],
    nodes: [onnxNode('MaxPool', ['x'], ['y'], [attrInts('kernel_shape', [2, 2]), attrInt('ceil_mode', v)], 'p')],
  });
  rejects(() => importOnnx(pool(3)), /node "p" \(MaxPool\): attribute ceil_mode must be 0 or 1, got 3/);
  assert.equal(importOnnx(pool(1)).nodes[0].attrs.ceil_mode, 1);
});

test('integer division of constants by zero is refused while folding (it used to throw a RangeError)', () => {
  const m = onnxModel({
    opset: 17, inputs: [vi('x', 'float32', [2, 4])], outputs: [{ name: 'y' }],
    initializers: [init('a', new Tensor('int64', [1])), init('b', new Tensor('int64', [1]))],
    nodes: [onnxNode('Div', ['a', 'b'], ['q'], [], 'd'), onnxNode('Reshape', ['x', 'q'], ['y'], [], 'r')],
  });
  rejects(() => importOnnx(m), /^model\.onnx: node "d" \(Div\): integer division by zero \(divisor element 0\)$/);
});
