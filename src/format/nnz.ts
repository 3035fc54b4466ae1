// A compressed Graph ↔ .nnz bytes. The graph section is the structure as
// deflated JSON (src/ir/serialize.ts); each initializer is a tensor section
// encoded per its format (codebook, sparse, Winograd transform, binary / ternary) or in the smallest lossless form.
import { deflateSync, Inflate } from 'fflate';
import { encodeNnzWithReport, decodeNnz, MAGIC, type DecodeOptions, type SectionReport } from './container.js';
import { sharedTensorSpec, type EncodedTensorSpec } from './tensor_codec.js';
import { gridOffsets, gridRange } from './grid.js';
import { levelBits } from './bits.js';
import { fail, NnzipError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { graphFromJson, graphToJson } from '../ir/serialize.js';
import { verify } from '../ir/verify.js';

export interface NnzEncodeOptions {
  /** Huffman-code the symbol streams: true, false, or undefined = whichever is smaller. */
  huffman?: boolean;
  /** Store float tensors that are not compressed (biases) as float16 (lossy). */
  f16?: boolean;
  meta?: Record<string, unknown>;
}

export interface NnzEncoded {
  bytes: Uint8Array;
  sections: SectionReport[];
}

const utf8 = new TextEncoder();

function tensorSpec(graph: Graph, name: string, opts: NnzEncodeOptions): EncodedTensorSpec {
  const tensor = graph.initializers.get(name)!;
  const f = graph.formats.get(name);
  if (f?.kind === 'codebook') {
    return sharedTensorSpec(name, tensor.shape, { centroids: f.centroids, indices: f.indices }, { gapBits: f.indexBits, huffman: opts.huffman });
  }
  if (f?.kind === 'grid') return { name, tensor, grid: f, gapBits: f.indexBits, huffman: opts.huffman };
  if (f?.kind === 'sparse') return { name, tensor, gapBits: f.indexBits, huffman: opts.huffman };
  if (f?.kind === 'pattern') return { name, tensor, pattern: f, huffman: opts.huffman };
  // forced: the format promises the signs form to whoever decodes it (a TTQ layer's 2-entry codebook may be a few bytes smaller)
  if (f?.kind === 'binary' || f?.kind === 'ternary') return { name, tensor, signsAxis: f.axis, encoding: f.kind, huffman: opts.huffman };
  if (f?.kind === 'winograd') return { name, tensor, winograd: { tile: f.tile, transformed: f.transformed } };
  return { name, tensor, huffman: opts.huffman, f16: opts.f16 && tensor.dtype === 'float32' };
}

export function graphToNnz(graph: Graph, opts: NnzEncodeOptions = {}): NnzEncoded {
  const structure = deflateSync(utf8.encode(JSON.stringify(graphToJson(graph))), { level: 9 });
  const tensors = [...graph.initializers.keys()].map((name) => tensorSpec(graph, name, opts));
  return encodeNnzWithReport({ graph: structure, tensors, meta: opts.meta });
}

/** True when the bytes start with the .nnz magic (an ONNX file never does: it is a protobuf message). */
export function isNnz(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

export interface NnzDecoded {
  graph: Graph;
  meta?: Record<string, unknown>;
  /** Bytes each tensor takes in the file (section frame included). */
  tensorBytes: Map<string, number>;
}

/** Bytes the graph section may inflate to: 1 MiB, plus 32 per stored byte (docs/format.md §7). */
export function maxGraphJsonBytes(sectionBytes: number): number {
  return 2 ** 20 + 32 * sectionBytes;
}

/** Inflates the graph section, refusing more than maxGraphJsonBytes (a deflate bomb stops early). */
function inflateGraph(section: Uint8Array, source: string): Uint8Array {
  const limit = maxGraphJsonBytes(section.length);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflate = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > limit) throw new NnzipError(`${source}: the graph section inflates to over ${limit} bytes (the limit for its ${section.length}); the file is corrupt`);
    chunks.push(chunk);
    done ||= final;
  });
  try {
    // in small pieces: fflate inflates a whole push before it hands out data (deflate expands at most 1032:1)
    const PIECE = 1024;
    for (let at = 0; at < section.length || at === 0; at += PIECE) inflate.push(section.subarray(at, at + PIECE), at + PIECE >= section.length);
  } catch (e) {
    if (e instanceof NnzipError) throw e;
    done = false;
  }
  if (!done) fail(`${source}: the graph section does not decode; the file is corrupt`);
  const out = new Uint8Array(total);
  for (let i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) out.set(chunks[i], at);
  return out;
}

export function nnzToGraph(bytes: Uint8Array, source: string, options: DecodeOptions = {}): NnzDecoded {
  const contents = decodeNnz(bytes, source, options);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(inflateGraph(contents.graph, source)));
  } catch (e) {
    if (e instanceof NnzipError) throw e;
    fail(`${source}: the graph section does not decode; the file is corrupt`);
  }
  const graph = graphFromJson(
    json,
    (name) => contents.tensors.get(name)?.tensor ?? fail(`${source}: tensor "${name}" is missing from the file`),
    source,
  );
  for (const [name, t] of contents.tensors) {
    if (!graph.initializers.has(name)) fail(`${source}: tensor "${name}" is not one of the graph's initializers; the file is corrupt`);
    if (t.codebook) {
      const k = t.codebook.centroids.length;
      graph.formats.set(name, { kind: 'codebook', bits: levelBits(k), centroids: t.codebook.centroids, indices: t.codebook.indices, indexBits: t.sparse?.gapBits || undefined });
    } else if (t.grid) {
      const bits = levelBits(gridRange(gridOffsets(t.grid, t.tensor.shape)).levels);
      graph.formats.set(name, { kind: 'grid', bits, ...t.grid, indexBits: t.sparse?.gapBits || undefined });
    } else if (t.pattern) {
      graph.formats.set(name, t.pattern);
    } else if (t.sparse) {
      graph.formats.set(name, { kind: 'sparse', indexBits: t.sparse.gapBits });
    } else if (t.signs) {
      graph.formats.set(name, { kind: t.signs.kind, axis: t.signs.axis });
    } else if (t.winograd) {
      graph.formats.set(name, { kind: 'winograd', ...t.winograd });
    }
  }
  try {
    verify(graph);
  } catch (e) {
    if (!(e instanceof NnzipError)) throw e;
    fail(`${source}: the stored graph is invalid (${e.message})`);
  }
  const tensorBytes = new Map([...contents.tensors].map(([n, t]) => [n, t.bytes]));
  return { graph, meta: contents.meta, tensorBytes };
}
