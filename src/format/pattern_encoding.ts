// The pattern encoding (docs/format.md §5.8): the FKW arrays of a pattern-pruned
// [M, C, 3, 3] conv weight (fkw.ts).
import { Tensor } from '../ir/tensor.js';
import { buildFkw, readFkw, writeFkw } from './fkw.js';
import { f32Data, isF32, type Codec } from './tensor_encodings.js';

const pattern: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.pattern() !== undefined,
  write(w, ctx) {
    writeFkw(w, buildFkw(f32Data(ctx.tensor), ctx.tensor.shape, ctx.pattern()!));
    return {};
  },
  read(r, ctx) {
    const { dense, format } = readFkw(r, ctx.shape);
    return { tensor: new Tensor('float32', ctx.shape, dense), pattern: format, huffman: {} };
  },
};

export const PATTERN_CODECS = { pattern } as const;
