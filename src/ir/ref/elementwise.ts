// Elementwise ops: Add/Sub/Mul/Div with numpy broadcasting (float and integer
// dtypes), Relu, LeakyRelu, Sigmoid, Tanh, Sign, Abs, Clip.
import { type Node, attrFloat } from '../graph.js';
import { Tensor } from '../tensor.js';
import { NumArray, floatInput, optionalScalar, type RefKernel } from './operands.js';
import { nodeFail, input, broadcastShapes, broadcastStrides, checkNoZero, forEachRow, lastStrides } from '../util.js';

type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div';

/** One row of a binary op: out[o+i] = a[ai+i*as] (op) b[bi+i*bs]. */
type NumRow = (out: NumArray, o: number, a: NumArray, ai: number, as: number, b: NumArray, bi: number, bs: number, n: number) => void;
type BigRow = (out: BigInt64Array, o: number, a: BigInt64Array, ai: number, as: number, b: BigInt64Array, bi: number, bs: number, n: number) => void;

// Float rows: plain arithmetic (float32 results rounded on store).
const FLOAT_ROWS: Record<BinaryOp, NumRow> = {
  Add: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] + b[bi + i * bs]; },
  Sub: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] - b[bi + i * bs]; },
  Mul: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] * b[bi + i * bs]; },
  Div: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] / b[bi + i * bs]; },
};

// Integer rows: results wrap on store (as C integer arithmetic does); Mul uses
// Math.imul so int32 products keep their exact low bits; Div truncates toward zero.
const INT_ROWS: Record<BinaryOp, NumRow> = {
  ...FLOAT_ROWS,
  Mul: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = Math.imul(a[ai + i * as], b[bi + i * bs]); },
  Div: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = Math.trunc(a[ai + i * as] / b[bi + i * bs]); },
};

// int64 rows: BigInt64Array stores wrap modulo 2^64; BigInt division truncates.
const BIG_ROWS: Record<BinaryOp, BigRow> = {
  Add: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] + b[bi + i * bs]; },
  Sub: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] - b[bi + i * bs]; },
  Mul: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] * b[bi + i * bs]; },
  Div: (out, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] / b[bi + i * bs]; },
};

function binary(op: BinaryOp): RefKernel {
  return (node, inputs) => {
    const a = input(node, inputs, 0, 'A');
    const b = input(node, inputs, 1, 'B');
    if (a.dtype !== b.dtype) nodeFail(node, `inputs have different dtypes (${a.dtype} and ${b.dtype}); insert a Cast`);
    if (a.dtype === 'bool') nodeFail(node, `${op} does not take bool tensors`);
    const shape = broadcastShapes(node, [a.shape, b.shape]);
    const out = new Tensor(a.dtype, shape);
    const strides = [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)];
    const [as, bs] = lastStrides(strides);
    const n = shape.length === 0 ? 1 : shape[shape.length - 1];
    const isInt = a.dtype !== 'float32' && a.dtype !== 'float64';
    if (op === 'Div' && isInt) checkNoZero(node, b);
    if (a.dtype === 'int64') {
      const row = BIG_ROWS[op];
      const [ad, bd, od] = [a.data as BigInt64Array, b.data as BigInt64Array, out.data as BigInt64Array];
      forEachRow(shape, strides, (o, offs) => row(od, o, ad, offs[0], as, bd, offs[1], bs, n));
    } else {
      const row = (isInt ? INT_ROWS : FLOAT_ROWS)[op];
      const [ad, bd, od] = [a.data as NumArray, b.data as NumArray, out.data as NumArray];
      forEachRow(shape, strides, (o, offs) => row(od, o, ad, offs[0], as, bd, offs[1], bs, n));
    }
    return [out];
  };
}

/** Float unary ops: one loop each, no per-element calls. */
const FLOAT_UNARY: Record<string, (x: Float32Array | Float64Array, y: Float32Array | Float64Array, node: Node) => void> = {
  Sigmoid: (x, y) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      // Two forms so exp never overflows.
      if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
      else { const e = Math.exp(v); y[i] = e / (1 + e); }
    }
  },
  Tanh: (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]); },
  // as onnxruntime: (0 < x) − (x < 0), so ±0 and NaN give 0
  Sign: (x, y) => { for (let i = 0; i < x.length; i++) { const v = x[i]; y[i] = v > 0 ? 1 : v < 0 ? -1 : 0; } },
  Abs: (x, y) => { for (let i = 0; i < x.length; i++) y[i] = Math.abs(x[i]); },
  LeakyRelu: (x, y, node) => {
    const alpha = Math.fround(attrFloat(node, 'alpha', 0.01));
    for (let i = 0; i < x.length; i++) { const v = x[i]; y[i] = v < 0 ? alpha * v : v; }
  },
};

function floatUnary(op: string): RefKernel {
  const fn = FLOAT_UNARY[op];
  return (node, inputs) => {
    const x = floatInput(node, inputs, 0, 'X');
    const y = new Tensor(x.dtype, x.shape);
    fn(x.data, y.data, node);
    return [y];
  };
}

/** Relu also takes signed integer dtypes (opset 14). */
const relu: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'X');
  if (x.dtype === 'bool') nodeFail(node, 'Relu does not take bool tensors');
  const y = new Tensor(x.dtype, x.shape);
  if (x.dtype === 'int64') {
    const [xd, yd] = [x.data as BigInt64Array, y.data as BigInt64Array];
    for (let i = 0; i < xd.length; i++) yd[i] = xd[i] < 0n ? 0n : xd[i];
  } else {
    const [xd, yd] = [x.data as NumArray, y.data as NumArray];
    for (let i = 0; i < xd.length; i++) { const v = xd[i]; yd[i] = v < 0 ? 0 : v; }
  }
  return [y];
};

/** Clip: min/max from inputs 1 and 2 (opset ≥ 11) or from attributes (opset < 11); each optional. */
const clip: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'input');
  if (x.dtype === 'bool') nodeFail(node, 'Clip does not take bool tensors');
  for (const i of [1, 2]) {
    const t = inputs[i];
    if (t && t.dtype !== x.dtype) nodeFail(node, `${i === 1 ? 'min' : 'max'} is ${t.dtype} but the input is ${x.dtype}`);
  }
  const lo = optionalScalar(node, inputs[1], 'min') ?? numAttr(node, 'min');
  const hi = optionalScalar(node, inputs[2], 'max') ?? numAttr(node, 'max');
  const y = new Tensor(x.dtype, x.shape);
  if (x.dtype === 'int64') {
    const [xd, yd] = [x.data as BigInt64Array, y.data as BigInt64Array];
    const l = lo === undefined ? undefined : BigInt(lo);
    const h = hi === undefined ? undefined : BigInt(hi);
    for (let i = 0; i < xd.length; i++) {
      let v = xd[i];
      if (l !== undefined && v < l) v = l;
      if (h !== undefined && v > h) v = h;
      yd[i] = v;
    }
  } else {
    const [xd, yd] = [x.data as NumArray, y.data as NumArray];
    const l = lo === undefined ? -Infinity : Number(lo);
    const h = hi === undefined ? Infinity : Number(hi);
    for (let i = 0; i < xd.length; i++) {
      const v = xd[i];
      yd[i] = v < l ? l : v > h ? h : v;
    }
  }
  return [y];
};

function numAttr(node: Node, key: string): number | undefined {
  const v = node.attrs[key];
  return typeof v === 'number' ? v : undefined;
}

export const ELEMENTWISE_KERNELS: Record<string, RefKernel> = {
  Add: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  Div: binary('Div'),
  Relu: relu,
  LeakyRelu: floatUnary('LeakyRelu'),
  Sigmoid: floatUnary('Sigmoid'),
  Tanh: floatUnary('Tanh'),
  Sign: floatUnary('Sign'),
  Abs: floatUnary('Abs'),
  Clip: clip,
};
