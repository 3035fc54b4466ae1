// The grid encodings (docs/format.md §4, §5.4): integers and scales, dense
// (grid), relative-index sparse (sparse-grid) and range-coded (grid-ctx).
import { NnzipError } from '../ir/errors.js';
import { Tensor } from '../ir/tensor.js';
import { histogram, writeSymbolStream } from './huffman.js';
import { decodeGrid, gridFromOffsets, gridOffsets, gridRange, readGridBlock, sparseGridLevel, sparseGridSymbol, writeGridBlock, type Grid, type GridBlock } from './grid.js';
import { chooseGapBits, relativeEntries } from './relative_index.js';
import { readContextEntries, writeContextEntries } from './range_models.js';
import { isF32, readGaps, readStream, writeGaps, type Codec, type DecodeContext, type SparseForm, type TensorBody } from './tensor_encodings.js';

// grid: the grid block, then every element's q − zero − lo (alphabet: the levels)
const grid: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.grid() !== undefined,
  write(w, ctx) {
    const g = ctx.grid()!;
    const v = gridOffsets(g, ctx.tensor.shape);
    const { lo, levels } = gridRange(v);
    writeGridBlock(w, g, lo, levels);
    const symbols = new Uint32Array(v.length);
    for (let i = 0; i < v.length; i++) symbols[i] = v[i] - lo;
    return { indices: writeSymbolStream(w, symbols, levels, ctx.streams).huffman };
  },
  read(r, ctx) {
    const b = readGridBlock(r, ctx.shape);
    const { symbols, huffman } = readStream(r, ctx.n, b.levels);
    const v = new Int32Array(ctx.n);
    for (let i = 0; i < v.length; i++) v[i] = symbols[i] + b.lo;
    const g = gridFromOffsets(b.base, ctx.shape, v);
    return { tensor: new Tensor('float32', ctx.shape, decodeGrid(g, ctx.shape)), grid: g, huffman: { indices: huffman } };
  },
};

/** A grid's nonzero elements: positions and level symbols (the nonzero levels in order; the filler, level 0, is levels − 1). */
function nonzeroLevels(g: Grid, shape: readonly number[]): { lo: number; levels: number; positions: Uint32Array; symbols: Uint32Array } {
  const v = gridOffsets(g, shape);
  const { lo, levels } = gridRange(v);
  const positions = nonzeroOffsets(v);
  const symbols = new Uint32Array(positions.length);
  for (let j = 0; j < symbols.length; j++) symbols[j] = sparseGridSymbol(v[positions[j]], lo, levels);
  return { lo, levels, positions, symbols };
}

/** The tensor of decoded entries (fillers decode to level 0), with its grid and sparse form. */
function fromEntries(b: GridBlock, ctx: DecodeContext, positions: Uint32Array, symbols: ArrayLike<number>, gapBits: number): Omit<TensorBody, 'huffman'> {
  const v = new Int32Array(ctx.n);
  for (let j = 0; j < positions.length; j++) v[positions[j]] = sparseGridLevel(symbols[j], b.lo, b.levels);
  const g = gridFromOffsets(b.base, ctx.shape, v);
  const data = decodeGrid(g, ctx.shape);
  const keep = positions.filter((p) => v[p] !== 0);
  const sparse: SparseForm = { gapBits, positions: keep, values: Float32Array.from(keep, (p) => data[p]), fillers: positions.length - keep.length };
  return { tensor: new Tensor('float32', ctx.shape, data), grid: g, sparse };
}

// sparse-grid: the grid block, gaps, then one level symbol per entry (nonzero levels, then the filler last)
const sparseGrid: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.grid() !== undefined,
  write(w, ctx) {
    const g = ctx.grid()!;
    const { lo, levels, positions, symbols: real } = nonzeroLevels(g, ctx.tensor.shape);
    const b = ctx.gapBits ?? chooseGapBits(positions, { ...ctx.streams, valueFreqs: histogram(real, levels) }).gapBits;
    const { gaps, source } = relativeEntries(positions, b);
    writeGridBlock(w, g, lo, levels);
    const gapsHuffman = writeGaps(w, gaps, b, ctx.streams);
    const symbols = new Uint32Array(source.length);
    for (let j = 0; j < source.length; j++) symbols[j] = source[j] >= 0 ? real[source[j]] : levels - 1;
    return { gaps: gapsHuffman, values: writeSymbolStream(w, symbols, levels, ctx.streams).huffman };
  },
  read(r, ctx) {
    const b = readGridBlock(r, ctx.shape);
    const gaps = readGaps(r, ctx);
    const vs = readStream(r, gaps.positions.length, b.levels);
    return { ...fromEntries(b, ctx, gaps.positions, vs.symbols, gaps.b), huffman: { gaps: gaps.huffman, values: vs.huffman } };
  },
};

// grid-ctx: the grid block, then the nonzero levels as context-coded entries (symbols as sparse-grid's, no filler)
const gridCtx: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.grid() !== undefined,
  write(w, ctx) {
    const g = ctx.grid()!;
    const { lo, levels, positions, symbols } = nonzeroLevels(g, ctx.tensor.shape);
    writeGridBlock(w, g, lo, levels);
    writeContextEntries(w, positions, symbols, Math.max(1, levels - 1));
    return {};
  },
  read(r, ctx) {
    const b = readGridBlock(r, ctx.shape);
    const e = readContextEntries(r, ctx.n, Math.max(1, b.levels - 1));
    if (b.levels === 1 && e.positions.length > 0) throw new NnzipError(`${r.where}: entries in a grid of one level; the file is corrupt`);
    return { ...fromEntries(b, ctx, e.positions, e.symbols, 0), huffman: {} };
  },
};

function nonzeroOffsets(v: Int32Array): Uint32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) n++;
  const out = new Uint32Array(n);
  for (let i = 0, j = 0; i < v.length; i++) if (v[i] !== 0) out[j++] = i;
  return out;
}

export const GRID_CODECS = { grid, 'sparse-grid': sparseGrid, 'grid-ctx': gridCtx } as const;
