// The integer ops of the ONNX QOperator form: QLinearConv, QLinearMatMul (int8 /
// uint8 in and out, requantized) and ConvInteger, MatMulInteger (int32 out).
// Shapes are those of Conv and MatMul on the same operands.
import type { Node } from '../graph.js';
import { opSchema, registerOp, type ValueType } from '../ops.js';
import { sizeOf, type DType } from '../tensor.js';
import { input, nodeFail, shapeStr } from '../util.js';

const INT8S: readonly DType[] = ['int8', 'uint8'];

function int8Input(node: Node, inputs: (ValueType | undefined)[], i: number, what: string): ValueType {
  const t = input(node, inputs, i, what);
  if (!INT8S.includes(t.dtype)) nodeFail(node, `${what} is ${t.dtype}; the op takes int8 or uint8`);
  return t;
}

/** A scale (float32) or zero point (of `dtype`): a scalar, or 1-D of `perAxis` values when that is allowed. */
function checkParam(node: Node, t: ValueType | undefined, what: string, dtype: DType | 'float32', perAxis?: number): void {
  if (!t) return;
  if (t.dtype !== dtype) nodeFail(node, `${what} is ${t.dtype}; it must be ${dtype}`);
  const n = sizeOf(t.shape);
  if (n === 1 && t.shape.length <= 1) return;
  if (perAxis === undefined || t.shape.length !== 1 || n !== perAxis) {
    nodeFail(node, `${what} ${shapeStr(t.shape)} must be a scalar${perAxis === undefined ? '' : ` or [${perAxis}]`}`);
  }
}

/** The Conv (or MatMul) output type of operands x and w, as the float op would give it. */
function floatShape(op: 'Conv' | 'MatMul', node: Node, x: ValueType, w: ValueType, bias?: ValueType): number[] {
  const f = (t: ValueType): ValueType => ({ dtype: 'float32', shape: t.shape });
  return opSchema(op)!.infer({ ...node, op }, [f(x), f(w), ...(bias ? [f(bias)] : [])])[0].shape;
}

/** The output's type from y_scale (input 6) and y_zero_point (input 7; uint8 without one). */
function outputType(node: Node, inputs: (ValueType | undefined)[]): 'int8' | 'uint8' {
  checkParam(node, input(node, inputs, 6, 'y_scale'), 'y_scale', 'float32');
  const yz = inputs[7];
  if (yz && !INT8S.includes(yz.dtype)) nodeFail(node, `y_zero_point is ${yz.dtype}; it must be int8 or uint8`);
  return (yz?.dtype ?? 'uint8') as 'int8' | 'uint8';
}

const WINDOW_ATTRS = { auto_pad: 'string', dilations: 'ints', group: 'int', kernel_shape: 'ints', pads: 'ints', strides: 'ints' } as const;

registerOp({
  op: 'QLinearConv',
  attrs: WINDOW_ATTRS,
  inputs: [8, 9],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = int8Input(node, inputs, 0, 'x'), w = int8Input(node, inputs, 3, 'w');
    const M = w.shape[0];
    checkParam(node, input(node, inputs, 1, 'x_scale'), 'x_scale', 'float32');
    checkParam(node, inputs[2], 'x_zero_point', x.dtype);
    checkParam(node, input(node, inputs, 4, 'w_scale'), 'w_scale', 'float32', M);
    checkParam(node, inputs[5], 'w_zero_point', w.dtype, M);
    const b = inputs[8];
    if (b && b.dtype !== 'int32') nodeFail(node, `B is ${b.dtype}; it must be int32`);
    return [{ dtype: outputType(node, inputs), shape: floatShape('Conv', node, x, w, b) }];
  },
});

registerOp({
  op: 'QLinearMatMul',
  attrs: {},
  inputs: [8, 8],
  outputs: [1, 1],
  infer(node, inputs) {
    const a = int8Input(node, inputs, 0, 'a'), b = int8Input(node, inputs, 3, 'b');
    if (a.shape.length !== 2 || b.shape.length !== 2) nodeFail(node, `a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} must be 2-D (nnzip runs 2-D QLinearMatMul)`);
    checkParam(node, input(node, inputs, 1, 'a_scale'), 'a_scale', 'float32', a.shape[0]);
    checkParam(node, inputs[2], 'a_zero_point', a.dtype, a.shape[0]);
    checkParam(node, input(node, inputs, 4, 'b_scale'), 'b_scale', 'float32', b.shape[1]);
    checkParam(node, inputs[5], 'b_zero_point', b.dtype, b.shape[1]);
    return [{ dtype: outputType(node, inputs), shape: floatShape('MatMul', node, a, b) }];
  },
});

registerOp({
  op: 'ConvInteger',
  attrs: WINDOW_ATTRS,
  inputs: [2, 4],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = int8Input(node, inputs, 0, 'x'), w = int8Input(node, inputs, 1, 'w');
    checkParam(node, inputs[2], 'x_zero_point', x.dtype);
    checkParam(node, inputs[3], 'w_zero_point', w.dtype, w.shape[0]);
    return [{ dtype: 'int32', shape: floatShape('Conv', node, x, w) }];
  },
});

registerOp({
  op: 'MatMulInteger',
  attrs: {},
  inputs: [2, 4],
  outputs: [1, 1],
  infer(node, inputs) {
    const a = int8Input(node, inputs, 0, 'A'), b = int8Input(node, inputs, 1, 'B');
    if (b.shape.length !== 2 || a.shape.length < 1) nodeFail(node, `B ${shapeStr(b.shape)} must be 2-D (nnzip runs MatMulInteger with a constant-shaped B)`);
    const rows = a.shape.length >= 2 ? a.shape[a.shape.length - 2] : 1;
    checkParam(node, inputs[2], 'a_zero_point', a.dtype, rows);
    checkParam(node, inputs[3], 'b_zero_point', b.dtype, b.shape[1]);
    return [{ dtype: 'int32', shape: floatShape('MatMul', node, a, b) }];
  },
});
