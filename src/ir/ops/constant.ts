// Constants and type conversion: Constant (value in an attribute; the ONNX importer
// turns these into initializers) and Cast (`to` = ONNX data type code).
import { attrInt, type Node } from '../graph.js';
import { registerOp } from '../ops.js';
import { Tensor, f32, fromNumbers, i64, toNumbers } from '../tensor.js';
import { dtypeOfCode } from './dtype_codes.js';
import { foldable } from './values.js';
import { input, nodeFail } from '../util.js';

/** The tensor a Constant node stands for (value, value_float(s), value_int(s)). */
export function constantValue(node: Node): Tensor {
  const a = node.attrs;
  const set = ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'].filter((k) => a[k] !== undefined);
  if (set.length !== 1) nodeFail(node, `exactly one of value, value_float(s), value_int(s) must be set (got ${set.length ? set.join(', ') : 'none'})`);
  const v = a[set[0]];
  switch (set[0]) {
    case 'value':
      if (!(v instanceof Tensor)) nodeFail(node, 'value must be a tensor');
      return v;
    case 'value_float': return f32([], [v as number]);
    case 'value_floats': return f32([(v as number[]).length], v as number[]);
    case 'value_int': return i64([], [v as number]);
    default: return i64([(v as number[]).length], v as number[]);
  }
}

registerOp({
  op: 'Constant',
  attrs: { value: 'tensor', value_float: 'float', value_floats: 'floats', value_int: 'int', value_ints: 'ints' },
  inputs: [0, 0],
  outputs: [1, 1],
  infer(node) {
    const value = constantValue(node);
    return [{ dtype: value.dtype, shape: [...value.shape], value }];
  },
});

registerOp({
  op: 'Cast',
  attrs: { to: 'int' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const code = attrInt(node, 'to', 0);
    const dtype = dtypeOfCode(code);
    if (!dtype) nodeFail(node, `to=${code} is not a data type nnzip supports (float32, float64, int8/16/32/64, uint8/16, bool)`);
    if (!x.value || !foldable([x])) return [{ dtype, shape: [...x.shape] }];
    // float → int truncates toward zero, anything → bool is "non-zero" (as onnxruntime casts)
    const nums = toNumbers(x.value).map((v) => (dtype === 'bool' ? (v !== 0 ? 1 : 0) : v));
    return [{ dtype, shape: [...x.shape], value: fromNumbers(dtype, x.shape, nums) }];
  },
});
