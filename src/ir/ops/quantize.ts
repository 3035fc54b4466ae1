// Linear (de)quantization, per tensor (scalar scale) or per axis (1-D scale along
// `axis`): QuantizeLinear y = saturate(round(x / scale) + zero_point),
// DequantizeLinear x = (y - zero_point) · scale.
import { attrInt, type Node } from '../graph.js';
import { registerOp, type ValueType } from '../ops.js';
import { sizeOf } from '../tensor.js';
import { input, nodeFail, normAxis, shapeStr } from '../util.js';
import { QUANT_RANGES } from '../quant.js';

/** Checks scale/zero-point shapes: scalar (per tensor) or [x.shape[axis]] (per axis). */
function checkQuantParams(node: Node, x: ValueType, scale: ValueType, zp: ValueType | undefined): void {
  if (scale.dtype !== 'float32') nodeFail(node, `scale must be float32, got ${scale.dtype}`);
  const perTensor = scale.shape.length === 0 || (scale.shape.length === 1 && scale.shape[0] === 1 && sizeOf(scale.shape) === 1);
  if (!perTensor) {
    if (scale.shape.length !== 1) nodeFail(node, `scale ${shapeStr(scale.shape)} must be a scalar or 1-D`);
    const axis = normAxis(node, attrInt(node, 'axis', 1), x.shape.length);
    if (scale.shape[0] !== x.shape[axis]) {
      nodeFail(node, `per-axis scale has ${scale.shape[0]} values but axis ${axis} of ${shapeStr(x.shape)} has ${x.shape[axis]}`);
    }
  }
  // the shapes themselves, as quantAxis (ir/quant.ts) requires when the model runs
  if (zp && shapeStr(zp.shape) !== shapeStr(scale.shape)) {
    nodeFail(node, `zero point ${shapeStr(zp.shape)} must have the shape of scale ${shapeStr(scale.shape)}`);
  }
}

registerOp({
  op: 'QuantizeLinear',
  attrs: { axis: 'int' },
  inputs: [2, 3],
  types: { float: [0, 1], same: [0, 1] },
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const scale = input(node, inputs, 1);
    const zp = inputs[2];
    checkQuantParams(node, x, scale, zp);
    const dtype = zp?.dtype ?? 'uint8';
    if (!QUANT_RANGES[dtype]) {
      nodeFail(node, `zero point type ${dtype} is not a quantized type (int8, uint8, int16, uint16, int32)`);
    }
    return [{ dtype, shape: [...x.shape] }];
  },
});

registerOp({
  op: 'DequantizeLinear',
  attrs: { axis: 'int' },
  inputs: [2, 3],
  types: { float: [1], same: [0, 2] },
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const scale = input(node, inputs, 1);
    const zp = inputs[2];
    checkQuantParams(node, x, scale, zp);
    if (zp && zp.dtype !== x.dtype) nodeFail(node, `zero point is ${zp.dtype} but the input is ${x.dtype}`);
    return [{ dtype: scale.dtype, shape: [...x.shape] }];
  },
});
