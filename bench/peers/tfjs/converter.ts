// What an op converter of the TF.js peer is: what it sees while converting one node
// (convert.ts makes it) and the step it gives back (ops.ts, ops_basic.ts write them).
import type * as tf from '@tensorflow/tfjs';
import type { Node } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import type { Layout } from './layout.js';

/** Activations tf.fused.* applies after the bias. */
export type FusedActivation = 'linear' | 'relu' | 'relu6';

/** What an op converter sees while converting one node. */
export interface ConvertContext {
  readonly node: Node;
  readonly opset: number;
  /** Input i when it is known at conversion (initializer or Constant node), else undefined. */
  constant(i: number): Tensor | undefined;
  /** Input i, which must be constant; `what` names it in the error. */
  needConstant(i: number, what: string): Tensor;
  /** Layout of run-time input i. */
  layout(i: number): Layout;
  /** Keeps a tf tensor across runs (disposed with the model). */
  keep<T extends tf.Tensor>(t: T): T;
  /** The activation folded into this node (Conv/Gemm/MatMul), else 'linear'. */
  readonly activation: FusedActivation;
  fail(message: string): never;
}

/** A converted node: run-time inputs (aligned with node.inputs; undefined = constant or absent) → outputs. */
export interface Step {
  layouts: Layout[];
  run(inputs: (tf.Tensor | undefined)[]): tf.Tensor[];
}

export type OpConverter = (cx: ConvertContext) => Step;
