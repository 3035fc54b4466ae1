// Matrix products: Gemm (Y = alpha·A'·B' + beta·C, 2-D) and MatMul (numpy matmul).
import { registerOp } from '../ops.js';
import { broadcastShapes, input, nodeFail, shapeStr } from '../util.js';
import { attrInt } from '../graph.js';

registerOp({
  op: 'Gemm',
  attrs: { alpha: 'float', beta: 'float', transA: 'bool', transB: 'bool' },
  inputs: [2, 3],
  types: { float: [0, 1, 2], same: [0, 1, 2] },
  outputs: [1, 1],
  infer(node, inputs) {
    const a = input(node, inputs, 0);
    const b = input(node, inputs, 1);
    if (a.shape.length !== 2) nodeFail(node, `A ${shapeStr(a.shape)} must be 2-D (insert a Flatten before Gemm)`);
    if (b.shape.length !== 2) nodeFail(node, `B ${shapeStr(b.shape)} must be 2-D`);
    const [m, ka] = attrInt(node, 'transA', 0) ? [a.shape[1], a.shape[0]] : a.shape;
    const [kb, n] = attrInt(node, 'transB', 0) ? [b.shape[1], b.shape[0]] : b.shape;
    if (ka !== kb) {
      nodeFail(node, `A ${shapeStr(a.shape)} and B ${shapeStr(b.shape)} disagree on K (${ka} vs ${kb}; check transA/transB)`);
    }
    const c = inputs[2];
    if (c) {
      const out = broadcastShapes(node, [[m, n], c.shape]);
      if (out.length !== 2 || out[0] !== m || out[1] !== n) {
        nodeFail(node, `C ${shapeStr(c.shape)} does not broadcast to the output [${m},${n}]`);
      }
    }
    return [{ dtype: a.dtype, shape: [m, n] }];
  },
});

registerOp({
  op: 'MatMul',
  attrs: {},
  inputs: [2, 2],
  types: { float: [0, 1], same: [0, 1] },
  outputs: [1, 1],
  infer(node, inputs) {
    const a = input(node, inputs, 0);
    const b = input(node, inputs, 1);
    if (a.shape.length === 0 || b.shape.length === 0) nodeFail(node, 'inputs must have rank ≥ 1');
    // 1-D operands are promoted to matrices and the added dim removed again (numpy rules)
    const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
    const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
    const k1 = as[as.length - 1];
    const k2 = bs[bs.length - 2];
    if (k1 !== k2) nodeFail(node, `A ${shapeStr(a.shape)} and B ${shapeStr(b.shape)} disagree on K (${k1} vs ${k2})`);
    const batch = broadcastShapes(node, [as.slice(0, -2), bs.slice(0, -2)]);
    const shape = [...batch];
    if (a.shape.length > 1) shape.push(as[as.length - 2]);
    if (b.shape.length > 1) shape.push(bs[bs.length - 1]);
    return [{ dtype: a.dtype, shape }];
  },
});
