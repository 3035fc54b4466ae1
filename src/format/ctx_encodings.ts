// The range-coded encodings (docs/format.md §4, §5.5) that are not grids: a
// codebook's nonzeros as context-coded entries (codebook-ctx), and float32 with
// its signs and exponents range-coded (f32-ctx).
import { NnzipError } from '../ir/errors.js';
import { Tensor } from '../ir/tensor.js';
import { codebookValues, indexArray, readCentroids, writeCentroids } from './codebook.js';
import { readContextEntries, readSignExponents, writeContextEntries, writeSignExponents } from './range_models.js';
import { f32Data, gather, isF32, positionsOf, u32View, type Codec, type SparseForm } from './tensor_encodings.js';

// codebook-ctx: centroids, then the nonzeros as context-coded entries (value = codebook index)
const codebookCtx: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.codebook() !== undefined,
  write(w, ctx) {
    const cb = ctx.codebook()!;
    const k = cb.centroids.length;
    const positions = positionsOf(cb.indices, k);
    writeCentroids(w, cb.centroids);
    writeContextEntries(w, positions, gather(cb.indices, positions, k), Math.max(1, k));
    return {};
  },
  read(r, ctx) {
    const centroids = readCentroids(r);
    const k = centroids.length;
    const e = readContextEntries(r, ctx.n, Math.max(1, k));
    if (k === 0 && e.positions.length > 0) throw new NnzipError(`${r.where}: entries but no centroids; the file is corrupt`);
    const indices = indexArray(ctx.n, k).fill(k);
    for (let j = 0; j < e.positions.length; j++) indices[e.positions[j]] = e.symbols[j];
    const cb = { centroids, indices };
    const sparse: SparseForm = { gapBits: 0, positions: e.positions, indices: gather(indices, e.positions, k), values: Float32Array.from(e.symbols, (s) => centroids[s]), fillers: 0 };
    return { tensor: new Tensor('float32', ctx.shape, codebookValues(cb)), codebook: cb, sparse, huffman: {} };
  },
};

// f32-ctx: every float's sign and exponent range-coded (they take few values in a layer), then its 23 mantissa bits
const f32Ctx: Codec = {
  holds: isF32,
  applies: () => true,
  write(w, ctx) {
    const bits = u32View(f32Data(ctx.tensor));
    writeSignExponents(w, bits);
    for (let i = 0; i < bits.length; i++) w.writeBits(bits[i] & 0x7fffff, 23);
    return {};
  },
  read(r, ctx) {
    const data = new Float32Array(ctx.n);
    const bits = u32View(data);
    readSignExponents(r, bits);
    if (ctx.n * 23 > r.bitsLeft) throw new NnzipError(`${r.where}: ${ctx.n} mantissas do not fit the section; the file is truncated`);
    for (let i = 0; i < bits.length; i++) bits[i] = (bits[i] | r.readBits(23)) >>> 0;
    return { tensor: new Tensor('float32', ctx.shape, data), huffman: {} };
  },
};

export const CTX_CODECS = { 'codebook-ctx': codebookCtx, 'f32-ctx': f32Ctx } as const;
