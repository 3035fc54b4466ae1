// The table of ops the trainer can build, one entry per ONNX op, merged from the
// op families. A duplicate registration throws.
import { ACTIVATION_OPS } from './activation.js';
import { ADD_OPS } from './add.js';
import { BATCHNORM_OPS } from './batchnorm.js';
import { CONV_OPS } from './conv.js';
import { DROPOUT_OPS } from './dropout.js';
import { LINEAR_OPS } from './linear.js';
import { POOL_OPS } from './pool.js';
import { QUANT_OPS } from './quant.js';
import { SHAPE_OPS } from './shape.js';
import { SIGN_OPS } from './sign.js';
import type { OpEntry } from './types.js';

const FAMILIES = [CONV_OPS, LINEAR_OPS, ACTIVATION_OPS, POOL_OPS, BATCHNORM_OPS, ADD_OPS, SHAPE_OPS, DROPOUT_OPS, SIGN_OPS, QUANT_OPS];

const TABLE = new Map<string, OpEntry>();
for (const family of FAMILIES) {
  for (const [op, entry] of Object.entries(family)) {
    if (TABLE.has(op)) throw new Error(`train op ${op} registered twice`);
    TABLE.set(op, entry);
  }
}

export function trainOp(op: string): OpEntry | undefined {
  return TABLE.get(op);
}

export function trainableOps(): string[] {
  return [...TABLE.keys()].sort();
}

export type { BuildCtx, OpBuilder, OpEntry } from './types.js';
