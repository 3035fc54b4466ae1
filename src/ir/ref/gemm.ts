// Gemm (transA, transB, alpha, beta, broadcast C) and MatMul (numpy semantics:
// batched, broadcast batch dims, 1-D operands). Float64 accumulation.
import { attrFloat, attrInt } from '../graph.js';
import { Tensor } from '../tensor.js';
import { gemmRef } from './gemm_ref.js';
import { FloatArray, floatInput, newFloat, type RefKernel } from './operands.js';
import { nodeFail, shapeStr, broadcastShapes, broadcastStrides, stridesOf } from '../util.js';

const gemm: RefKernel = (node, inputs) => {
  const a = floatInput(node, inputs, 0, 'A');
  const b = floatInput(node, inputs, 1, 'B');
  const c = inputs[2];
  if (a.shape.length !== 2 || b.shape.length !== 2) nodeFail(node, `A ${shapeStr(a.shape)} and B ${shapeStr(b.shape)} must both be 2-D`);
  if (a.dtype !== b.dtype || (c && c.dtype !== a.dtype)) nodeFail(node, `inputs must share one dtype (A is ${a.dtype})`);
  const transA = attrInt(node, 'transA', 0) !== 0;
  const transB = attrInt(node, 'transB', 0) !== 0;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== K2) nodeFail(node, `A ${shapeStr(a.shape)}${transA ? 'ᵀ' : ''} and B ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''} disagree on the inner dimension (${K} vs ${K2})`);
  const prod = new Float64Array(M * N);
  gemmRef({ M, N, K, a: a.data, transA, b: b.data, transB, c: prod });
  const y = newFloat(a.dtype, [M, N]);
  if (c && beta !== 0) {
    const shape = broadcastShapes(node, [[M, N], c.shape]);
    if (shape[0] !== M || shape[1] !== N) nodeFail(node, `C ${shapeStr(c.shape)} does not broadcast to the output [${M},${N}]`);
    const [sr, sc] = broadcastStrides(c.shape, [M, N]);
    const cd = c.data as FloatArray;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) y.data[i * N + j] = alpha * prod[i * N + j] + beta * cd[i * sr + j * sc];
  } else {
    for (let i = 0; i < M * N; i++) y.data[i] = alpha * prod[i];
  }
  return [y];
};

/** MatMul with numpy rules: 1-D A gets a leading 1, 1-D B a trailing 1 (both removed after). */
const matmul: RefKernel = (node, inputs) => {
  const a = floatInput(node, inputs, 0, 'A');
  const b = floatInput(node, inputs, 1, 'B');
  if (a.dtype !== b.dtype) nodeFail(node, `A is ${a.dtype} but B is ${b.dtype}`);
  if (a.shape.length === 0 || b.shape.length === 0) nodeFail(node, 'MatMul does not take scalars');
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [M, K] = aShape.slice(-2);
  const [K2, N] = bShape.slice(-2);
  if (K !== K2) nodeFail(node, `A ${shapeStr(a.shape)} and B ${shapeStr(b.shape)} disagree on the inner dimension (${K} vs ${K2})`);
  const batch = broadcastShapes(node, [aShape.slice(0, -2), bShape.slice(0, -2)]);
  const aStr = broadcastStrides(aShape.slice(0, -2), batch);
  const bStr = broadcastStrides(bShape.slice(0, -2), batch);
  const batchStr = stridesOf(batch);
  const count = batch.reduce((p, d) => p * d, 1);
  const out = new Tensor(a.dtype, [...batch, M, N]);
  for (let bi = 0; bi < count; bi++) {
    let ao = 0;
    let bo = 0;
    for (let d = 0; d < batch.length; d++) {
      const idx = Math.floor(bi / batchStr[d]) % batch[d];
      ao += idx * aStr[d];
      bo += idx * bStr[d];
    }
    gemmRef({ M, N, K, a: a.data, aOff: ao * M * K, b: b.data, bOff: bo * K * N, c: out.data, cOff: bi * M * N });
  }
  const shape = [...batch];
  if (a.shape.length > 1) shape.push(M);
  if (b.shape.length > 1) shape.push(N);
  return [out.reshape(shape)];
};

export const GEMM_KERNELS: Record<string, RefKernel> = {
  Gemm: gemm,
  MatMul: matmul,
};
