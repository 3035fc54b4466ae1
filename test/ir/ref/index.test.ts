// The registry: every op the IR form needs has a kernel; duplicates throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRefKernel, registerRef, refOps } from '../../../src/ir/ref/index.js';

const REQUIRED = [
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'Flatten', 'Reshape', 'Transpose', 'Concat', 'Split',
  'Squeeze', 'Unsqueeze', 'Softmax', 'BatchNormalization', 'Dropout', 'Identity', 'Shape', 'Gather', 'Cast',
  'QuantizeLinear', 'DequantizeLinear',
];

test('every required op has a reference kernel', () => {
  for (const op of REQUIRED) assert.ok(getRefKernel(op), `missing reference kernel for ${op}`);
  assert.equal(getRefKernel('NoSuchOp'), undefined);
  assert.deepEqual(refOps(), [...refOps()].sort());
});

test('registering an op twice throws', () => {
  assert.throws(() => registerRef('Conv', () => []), /Conv registered twice/);
});
