// Normalisations: Softmax (opset-13 semantics: along one axis; the importer rewrites
// older coerce-to-2D Softmax) and inference-mode BatchNormalization.
import { registerOp } from '../ops.js';
import { input, nodeFail, normAxis, shapeStr } from '../util.js';
import { attrInt } from '../graph.js';
import { sameAs } from './values.js';

registerOp({
  op: 'Softmax',
  attrs: { axis: 'int' },
  inputs: [1, 1],
  types: { float: [0] },
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    normAxis(node, attrInt(node, 'axis', -1), x.shape.length);
    return [sameAs(x)];
  },
});

registerOp({
  op: 'BatchNormalization',
  attrs: { epsilon: 'float', momentum: 'float', training_mode: 'bool' },
  inputs: [5, 5],
  types: { float: [0, 1, 2, 3, 4], same: [0, 1, 2, 3, 4] },
  outputs: [1, 3],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    if (attrInt(node, 'training_mode', 0) !== 0) nodeFail(node, 'training_mode=1 is not supported (nnzip runs inference; re-export the model in eval mode)');
    if (x.shape.length < 2) nodeFail(node, `input ${shapeStr(x.shape)} must be [N, C, ...]`);
    const c = x.shape[1];
    const names = ['scale', 'B', 'input_mean', 'input_var'];
    for (let i = 1; i < 5; i++) {
      const t = input(node, inputs, i);
      if (t.shape.length !== 1 || t.shape[0] !== c) nodeFail(node, `${names[i - 1]} ${shapeStr(t.shape)} must be [${c}] (one per channel)`);
    }
    // outputs 2 and 3 (running mean/var) exist only in training mode; typed for completeness
    const stat = { dtype: x.dtype, shape: [c] };
    return [sameAs(x), stat, { ...stat, shape: [c] }];
  },
});
