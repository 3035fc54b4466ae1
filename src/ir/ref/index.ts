// The reference-kernel registry: op name → plain-TS kernel. These kernels are the
// oracle every fast kernel is tested against: correct first, reasonably fast,
// never writing their inputs (outputs may share an input's data when unchanged).
import type { RefKernel } from './operands.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { CONV_KERNELS } from './conv.js';
import { GEMM_KERNELS } from './gemm.js';
import { POOL_KERNELS } from './pool.js';
import { REDUCE_KERNELS } from './reduce.js';
import { SOFTMAX_KERNELS } from './softmax.js';
import { BATCHNORM_KERNELS } from './batchnorm.js';
import { SHAPE_KERNELS } from './shape.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { CAST_KERNELS } from './cast.js';
import { QUANTIZE_KERNELS } from './quantize.js';
import { QLINEAR_KERNELS } from './qlinear.js';
import { SLICE_KERNELS } from './slice.js';

export type { RefKernel } from './operands.js';

const TABLE = new Map<string, RefKernel>();

export function registerRef(op: string, kernel: RefKernel): void {
  if (TABLE.has(op)) throw new Error(`reference kernel for ${op} registered twice`);
  TABLE.set(op, kernel);
}

export function getRefKernel(op: string): RefKernel | undefined {
  return TABLE.get(op);
}

/** Every op with a reference kernel, sorted. */
export function refOps(): string[] {
  return [...TABLE.keys()].sort();
}

const FAMILIES = [
  ELEMENTWISE_KERNELS, CONV_KERNELS, GEMM_KERNELS, POOL_KERNELS, REDUCE_KERNELS, SOFTMAX_KERNELS,
  BATCHNORM_KERNELS, SHAPE_KERNELS, MOVEMENT_KERNELS, CAST_KERNELS, QUANTIZE_KERNELS, QLINEAR_KERNELS, SLICE_KERNELS,
];
for (const family of FAMILIES) for (const [op, kernel] of Object.entries(family)) registerRef(op, kernel);
