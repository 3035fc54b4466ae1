// BatchNormalization in inference mode: y = (x − mean) · scale / √(var + ε) + bias, per channel (axis 1).
import { attrFloat, attrInt } from '../graph.js';
import { nodeFail, shapeStr } from '../util.js';
import { floatInput, newFloat, type RefKernel } from './operands.js';

const PARAMS = ['scale', 'B', 'input_mean', 'input_var'] as const;

const batchNorm: RefKernel = (node, inputs) => {
  const x = floatInput(node, inputs, 0, 'X');
  if (attrInt(node, 'training_mode', 0) !== 0) nodeFail(node, 'training_mode=1 is not supported at inference; export the model in eval mode');
  if (x.shape.length < 2) nodeFail(node, `input shape ${shapeStr(x.shape)} needs a channel axis (rank ≥ 2)`);
  const C = x.shape[1];
  const [scale, bias, mean, variance] = PARAMS.map((what, i) => {
    const t = floatInput(node, inputs, i + 1, what);
    if (t.size !== C || t.dtype !== x.dtype) nodeFail(node, `${what} must be ${x.dtype} [${C}], got ${t.dtype} ${shapeStr(t.shape)}`);
    return t.data;
  });
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const y = newFloat(x.dtype, x.shape);
  const N = x.shape[0];
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const k = scale[c] / Math.sqrt(variance[c] + eps);
      const b = bias[c] - mean[c] * k;
      const off = (n * C + c) * inner;
      for (let i = off; i < off + inner; i++) y.data[i] = x.data[i] * k + b;
    }
  }
  return [y];
};

export const BATCHNORM_KERNELS: Record<string, RefKernel> = {
  BatchNormalization: batchNorm,
};
