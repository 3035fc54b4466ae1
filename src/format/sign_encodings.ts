// The binary and ternary encodings (docs/format.md §4, §5.6): the levels, then
// 1 bit a weight or the trits five to a symbol (signs.ts).
import { Tensor } from '../ir/tensor.js';
import { readBinary, readTernary, writeBinary, writeTernary } from './signs.js';
import { f32Data, isF32, type Codec } from './tensor_encodings.js';

const binary: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.signs('binary') !== undefined,
  write(w, ctx) {
    writeBinary(w, f32Data(ctx.tensor), ctx.signs('binary')!);
    return {};
  },
  read(r, ctx) {
    const { data, form } = readBinary(r, ctx.shape, ctx.n);
    return { tensor: new Tensor('float32', ctx.shape, data), signs: form, huffman: {} };
  },
};

const ternary: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.signs('ternary') !== undefined,
  write(w, ctx) {
    return { values: writeTernary(w, f32Data(ctx.tensor), ctx.signs('ternary')!, ctx.streams) };
  },
  read(r, ctx) {
    const { data, form, huffman } = readTernary(r, ctx.shape, ctx.n);
    return { tensor: new Tensor('float32', ctx.shape, data), signs: form, huffman: { values: huffman } };
  },
};

export const SIGN_CODECS = { binary, ternary } as const;
