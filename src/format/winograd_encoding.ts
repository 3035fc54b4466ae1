// The winograd encoding (docs/format.md §4.1): a 3×3 conv filter [M, C, 3, 3] stored
// as its F(m,3) transform U = G g Gᵀ, asked for (never chosen by size: it is larger),
// so a session runs that tile without transforming. The filter comes back as G⁺UG⁺ᵀ.
//   1 byte tile m, then the (m+2)²·M·C transformed values as float32 (raw's layout)
import { NnzipError } from '../ir/errors.js';
import { Tensor } from '../ir/tensor.js';
import { isWinogradTile, recoverFilters } from '../ir/winograd.js';
import { BASE_CODECS, isF32, type Codec } from './tensor_encodings.js';

const isWinogradFilter = (shape: readonly number[]): boolean => shape.length === 4 && shape[2] === 3 && shape[3] === 3;

const winograd: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.winograd !== undefined,
  write(w, ctx) {
    const f = ctx.winograd!, [M, C] = ctx.tensor.shape;
    if (!isWinogradFilter(ctx.tensor.shape) || f.transformed.length !== (f.tile + 2) ** 2 * M * C) {
      throw new NnzipError(`${ctx.where}: a Winograd F(${f.tile},3) transform of shape [${ctx.tensor.shape.join(',')}] needs a [M,C,3,3] filter and ${(f.tile + 2) ** 2}·M·C values`);
    }
    w.writeBits(f.tile, 8);
    BASE_CODECS.raw.write(w, { ...ctx, tensor: new Tensor('float32', [f.transformed.length], f.transformed) });
    return {};
  },
  read(r, ctx) {
    const tile = r.readBits(8), [M, C] = ctx.shape;
    if (!isWinogradTile(tile) || !isWinogradFilter(ctx.shape)) throw new NnzipError(`${r.where}: Winograd tile ${tile} for shape [${ctx.shape.join(',')}]; the file is corrupt`);
    const n = (tile + 2) ** 2 * M * C;
    const transformed = BASE_CODECS.raw.read(r, { ...ctx, shape: [n], n }).tensor.data as Float32Array;
    return { tensor: new Tensor('float32', ctx.shape, recoverFilters(transformed, M, C, tile)), winograd: { tile, transformed }, huffman: {} };
  },
};

/** The codecs of this file (the table of all is codecs.ts). */
export const WINOGRAD_CODECS = { winograd } as const;
