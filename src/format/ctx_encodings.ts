// The range-coded encodings (docs/format.md §4, §5.5, §5.7) other than grid-ctx: a
// codebook's nonzeros as context-coded entries (codebook-ctx), a codebook's or a
// grid's as an occupancy map (map-ctx), and float32 with its signs and exponents
// range-coded (f32-ctx).
import { NnzipError } from '../ir/errors.js';
import { BitWriter } from './bits.js';
import { Tensor } from '../ir/tensor.js';
import { codebookValues, indexArray, readCentroids, writeCentroids, type Codebook } from './codebook.js';
import { readGridBlock, writeGridBlock } from './grid.js';
import { fromEntries, nonzeroLevels } from './grid_encodings.js';
import { encodeMap, readMap } from './range_map.js';
import { readContextEntries, readSignExponents, writeContextEntries, writeSignExponents } from './range_models.js';
import { f32Data, gather, isF32, positionsOf, u32View, type Codec, type DecodeContext, type SparseForm, type TensorBody } from './tensor_encodings.js';

type Entries = { positions: Uint32Array; symbols: Uint32Array };

/** A codebook's stored elements: positions of the nonzeros and their codebook indices. */
function codebookEntries(cb: Codebook): Entries & { alphabet: number } {
  const k = cb.centroids.length;
  const positions = positionsOf(cb.indices, k);
  return { positions, symbols: Uint32Array.from(gather(cb.indices, positions, k)), alphabet: Math.max(1, k) };
}

/** The tensor of a codebook's decoded entries, with its codebook and sparse form. */
function codebookFromEntries(centroids: Float32Array, ctx: DecodeContext, e: Entries, where: string): TensorBody {
  const k = centroids.length;
  if (k === 0 && e.positions.length > 0) throw new NnzipError(`${where}: entries but no centroids; the file is corrupt`);
  const indices = indexArray(ctx.n, k).fill(k);
  for (let j = 0; j < e.positions.length; j++) indices[e.positions[j]] = e.symbols[j];
  const cb = { centroids, indices };
  const sparse: SparseForm = { gapBits: 0, positions: e.positions, indices: gather(indices, e.positions, k), values: Float32Array.from(e.symbols, (s) => centroids[s]), fillers: 0 };
  return { tensor: new Tensor('float32', ctx.shape, codebookValues(cb)), codebook: cb, sparse, huffman: {} };
}

// codebook-ctx: centroids, then the nonzeros as context-coded entries (value = codebook index)
const codebookCtx: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.codebook() !== undefined,
  write(w, ctx) {
    const cb = ctx.codebook()!;
    const e = codebookEntries(cb);
    writeCentroids(w, cb.centroids);
    writeContextEntries(w, e.positions, e.symbols, e.alphabet);
    return {};
  },
  read(r, ctx) {
    const centroids = readCentroids(r);
    return codebookFromEntries(centroids, ctx, readContextEntries(r, ctx.n, Math.max(1, centroids.length)), r.where);
  },
};

// map-ctx: bits(1) 0 = centroid block / 1 = grid block, then an occupancy map (§5.7) with
// codebook-ctx's (resp. grid-ctx's) value symbols; with both, whichever is smaller
const mapCtx: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.codebook() !== undefined || ctx.grid() !== undefined,
  write(w, ctx) {
    const cb = ctx.codebook(), g = ctx.grid();
    const variants: { stored: 'codebook' | 'grid'; block: (to: BitWriter) => void; map: Uint8Array }[] = [];
    if (cb) {
      const e = codebookEntries(cb);
      variants.push({ stored: 'codebook', block: (to) => writeCentroids(to, cb.centroids), map: encodeMap(ctx.tensor.shape, e.positions, e.symbols, e.alphabet) });
    }
    if (g) {
      const { lo, levels, positions, symbols } = nonzeroLevels(g, ctx.tensor.shape);
      variants.push({ stored: 'grid', block: (to) => writeGridBlock(to, g, lo, levels), map: encodeMap(ctx.tensor.shape, positions, symbols, Math.max(1, levels - 1)) });
    }
    const bits = (v: (typeof variants)[number]): number => {
      const b = new BitWriter(64);
      v.block(b);
      return b.bitLength + 8 * v.map.length;
    };
    const best = variants.reduce((a, b) => (bits(b) < bits(a) ? b : a));
    w.writeBits(best.stored === 'codebook' ? 0 : 1, 1);
    best.block(w);
    w.writeVarint(best.map.length);
    w.writeBytes(best.map);
    return { stored: best.stored };
  },
  read(r, ctx) {
    if (r.readBits(1) === 0) {
      const centroids = readCentroids(r);
      return codebookFromEntries(centroids, ctx, readMap(r, ctx.shape, Math.max(1, centroids.length)), r.where);
    }
    const b = readGridBlock(r, ctx.shape);
    const e = readMap(r, ctx.shape, Math.max(1, b.levels - 1));
    if (b.levels === 1 && e.positions.length > 0) throw new NnzipError(`${r.where}: entries in a grid of one level; the file is corrupt`);
    return { ...fromEntries(b, ctx, e.positions, e.symbols, 0), huffman: {} };
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

export const CTX_CODECS = { 'codebook-ctx': codebookCtx, 'f32-ctx': f32Ctx, 'map-ctx': mapCtx } as const;
