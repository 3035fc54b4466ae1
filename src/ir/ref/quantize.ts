// QuantizeLinear / DequantizeLinear exactly as the ONNX spec (and onnxruntime) do
// it; the arithmetic is ir/quant.ts.
import { type Node, attrInt } from '../graph.js';
import { Tensor, DType } from '../tensor.js';
import { dequantizeValue, quantAxis, quantizeValue, QUANT_RANGES, type QuantAxis } from '../quant.js';
import { NumArray, type RefKernel } from './operands.js';
import { nodeFail, input, normAxis } from '../util.js';

function qparams(node: Node, x: Tensor, scale: Tensor, zero: Tensor | undefined): QuantAxis {
  if (attrInt(node, 'block_size', 0) !== 0) nodeFail(node, 'blocked quantization (block_size) is not supported');
  const axis = scale.size === 1 && scale.shape.length <= 1 ? 0 : normAxis(node, attrInt(node, 'axis', 1), x.shape.length);
  const q = quantAxis(x.shape, axis, scale, zero);
  return typeof q === 'string' ? nodeFail(node, q) : q;
}

const quantize: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'x');
  const scale = input(node, inputs, 1, 'y_scale');
  const zero = inputs[2];
  if (x.dtype !== 'float32') nodeFail(node, `x must be float32, got ${x.dtype}`);
  const to: DType = zero ? zero.dtype : 'uint8';
  const range = QUANT_RANGES[to];
  if (!range) nodeFail(node, `zero point dtype ${to} is not supported (int8, uint8, int16, uint16, int32)`);
  const q = qparams(node, x, scale, zero);
  const y = new Tensor(to, x.shape);
  const [xd, yd] = [x.data as Float32Array, y.data as NumArray];
  const [lo, hi] = range;
  for (let i = 0; i < xd.length; i++) {
    const k = Math.floor(i / q.inner) % q.count;
    yd[i] = quantizeValue(xd[i], q.scale[k], q.zero[k], lo, hi);
  }
  return [y];
};

const dequantize: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'x');
  const scale = input(node, inputs, 1, 'x_scale');
  const zero = inputs[2];
  if (!QUANT_RANGES[x.dtype]) nodeFail(node, `x must be int8, uint8, int16, uint16 or int32, got ${x.dtype}`);
  if (zero && zero.dtype !== x.dtype) nodeFail(node, `zero point is ${zero.dtype} but x is ${x.dtype}`);
  const q = qparams(node, x, scale, zero);
  if (x.dtype === 'int32' && q.zero.some((z) => z !== 0)) nodeFail(node, 'an int32 input needs a zero point of 0');
  const y = new Tensor('float32', x.shape);
  const [xd, yd] = [x.data as NumArray, y.data];
  for (let i = 0; i < xd.length; i++) {
    const k = Math.floor(i / q.inner) % q.count;
    yd[i] = dequantizeValue(xd[i], q.scale[k], q.zero[k]);
  }
  return [y];
};

export const QUANTIZE_KERNELS: Record<string, RefKernel> = {
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
};
