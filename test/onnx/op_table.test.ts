// The ONNX op table: one row per op and opset, every row backed by an IR schema,
// every IR op exportable at every supported opset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allOps, opSchema } from '../../src/ir/ops.js';
import '../../src/ir/ops/index.js';
import { MAX_OPSET, MIN_OPSET } from '../../src/ir/ops.js';
import { ONNX_OPS, onnxOp, supportedOnnxOps } from '../../src/onnx/op_table.js';

test('each ONNX op has exactly one row per supported opset and an IR schema', () => {
  for (const op of supportedOnnxOps()) {
    assert.ok(opSchema(op), `IR schema for ${op}`);
    for (let opset = MIN_OPSET; opset <= MAX_OPSET; opset++) assert.ok(onnxOp(op, opset), `${op} at opset ${opset}`);
  }
  for (const row of ONNX_OPS) assert.ok(row.since >= MIN_OPSET && row.until <= MAX_OPSET && row.since <= row.until, `${row.op} range`);
});

test('every IR op can be written to ONNX', () => {
  assert.deepEqual(allOps(), supportedOnnxOps());
});

test('the ops the brief and the reference models need are all there', () => {
  const need = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh',
    'MaxPool', 'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'Flatten', 'Reshape', 'Transpose', 'Concat', 'Split', 'Squeeze',
    'Unsqueeze', 'Softmax', 'BatchNormalization', 'Dropout', 'Identity', 'Constant', 'Shape', 'Gather', 'Cast', 'QuantizeLinear', 'DequantizeLinear'];
  for (const op of need) assert.ok(supportedOnnxOps().includes(op), op);
  assert.equal(onnxOp('Foo', 17), undefined);
  assert.equal(onnxOp('Conv', 19), undefined);
});
