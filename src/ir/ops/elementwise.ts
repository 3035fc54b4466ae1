// Elementwise ops: numpy-broadcasting binary arithmetic (folded when constant, for
// shape arithmetic) and shape-preserving unary ops (activations, Clip, Identity, Dropout).
import { registerOp } from '../ops.js';
import { isFloat } from '../tensor.js';
import { broadcastShapes, checkNoZero, input, nodeFail, shapeStr } from '../util.js';
import { foldable, foldBinary, sameAs } from './values.js';

type Binary = (x: number, y: number, float: boolean) => number;

// Integer Div truncates toward zero (C semantics, as onnxruntime does).
const BINARY: Record<string, Binary> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y, float) => (float ? x / y : Math.trunc(x / y)),
};

for (const [op, f] of Object.entries(BINARY)) {
  registerOp({
    op,
    attrs: {},
    inputs: [2, 2],
    outputs: [1, 1],
    infer(node, inputs) {
      const a = input(node, inputs, 0);
      const b = input(node, inputs, 1);
      if (a.dtype !== b.dtype) nodeFail(node, `inputs have different types (${a.dtype} and ${b.dtype}); insert a Cast`);
      const shape = broadcastShapes(node, [a.shape, b.shape]);
      if (a.value && b.value && foldable([a, b])) {
        const float = isFloat(a.dtype);
        if (op === 'Div' && !float) checkNoZero(node, b.value);
        return [{ dtype: a.dtype, shape, value: foldBinary(a.value, b.value, shape, a.dtype, (x, y) => f(x, y, float)) }];
      }
      return [{ dtype: a.dtype, shape }];
    },
  });
}

// Unary ops whose output has the input's type; `attrs` are their ONNX attributes.
const UNARY: Record<string, Record<string, 'float'>> = {
  Relu: {},
  Sigmoid: {},
  Tanh: {},
  Sign: {},
  Abs: {},
  LeakyRelu: { alpha: 'float' },
};

for (const [op, attrs] of Object.entries(UNARY)) {
  registerOp({
    op,
    attrs,
    inputs: [1, 1],
    outputs: [1, 1],
    // Relu also takes signed integers (opset 14); the others compute in floating point
    types: op === 'Relu' ? undefined : { float: [0] },
    infer: (node, inputs) => [sameAs(input(node, inputs, 0))],
  });
}

registerOp({
  op: 'Identity',
  attrs: {},
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    return [sameAs(x, x.value)];
  },
});

// Inference-mode Dropout is the identity; the optional mask output is all true.
registerOp({
  op: 'Dropout',
  attrs: { ratio: 'float', seed: 'int' },
  inputs: [1, 3],
  outputs: [1, 2],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const training = inputs[2]?.value;
    if (training && Number(training.data[0]) !== 0) nodeFail(node, 'training_mode=true is not supported (nnzip runs inference)');
    return [sameAs(x, x.value), { dtype: 'bool', shape: [...x.shape] }];
  },
});

// Clip: min/max as optional scalar inputs (opset ≥ 11) or as float attributes (older form).
registerOp({
  op: 'Clip',
  types: { same: [0, 1, 2] },
  attrs: { min: 'float', max: 'float' },
  inputs: [1, 3],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    for (const i of [1, 2]) {
      const t = inputs[i];
      if (!t) continue;
      if (t.shape.length > 1 || (t.shape.length === 1 && t.shape[0] !== 1)) {
        nodeFail(node, `${i === 1 ? 'min' : 'max'} ${shapeStr(t.shape)} must be a scalar`);
      }
      if (t.dtype !== x.dtype) nodeFail(node, `${i === 1 ? 'min' : 'max'} is ${t.dtype} but the input is ${x.dtype}`);
    }
    return [sameAs(x)];
  },
});
