// What an op family provides to the model builder: one builder per ONNX op,
// plus which inputs are trainable parameters or running-stat buffers when they
// come from initializers (every other initializer input is a constant).
import type { Node } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import type { Tape, Var } from '../autograd.js';

export interface BuildCtx {
  tape: Tape;
  /** The initializer behind a constant input (e.g. Reshape's shape, Clip's min), or undefined. */
  constant(name: string): Tensor | undefined;
  /** A model buffer (BatchNorm running mean/var) by initializer name. */
  buffer(name: string): Float32Array;
}

/** Builds the op's tape entries and returns its outputs. inputs[i] is undefined for absent or constant inputs. */
export type OpBuilder = (node: Node, inputs: (Var | undefined)[], ctx: BuildCtx) => Var[];

export interface OpEntry {
  build: OpBuilder;
  /** Input slots whose initializers become trainable Params. */
  paramSlots: readonly number[];
  /** Input slots whose initializers become buffers (updated in train mode, not by the optimizer). */
  bufferSlots?: readonly number[];
}
