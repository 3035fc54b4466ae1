// Registers every op schema of the IR (import this module once for its effect).
import './conv.js';
import './pool.js';
import './matmul.js';
import './elementwise.js';
import './normalization.js';
import './reduce.js';
import './shape.js';
import './concat.js';
import './gather.js';
import './constant.js';
import './quantize.js';
import './qlinear.js';

export { chunkSizes, splitSizes } from './concat.js';
export { constantValue } from './constant.js';
export { DTYPE_CODE, dtypeOfCode } from './dtype_codes.js';
