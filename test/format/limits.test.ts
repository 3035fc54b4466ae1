// Decompression bombs (docs/format.md §7 Limits): every size field is checked against
// the bits behind it before anything is allocated, and the elements that take no bits
// (sparse tails, constants, one-symbol codes) are capped per byte of file. Each bomb
// here is a few dozen bytes that would otherwise cost gigabytes; each is refused at
// once, and a legitimately sparse model past the cap decodes with maxElements.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'fflate';
import { BitWriter } from '../../src/format/bits.js';
import { assembleNnz, decodeNnz, encodeNnz, SECTION_KINDS } from '../../src/format/container.js';
import { graphToNnz, maxGraphJsonBytes, nnzToGraph } from '../../src/format/nnz.js';
import { DTYPE_CODES, ELEMENTS_PER_BYTE, elementLimit, writeTensorHeader } from '../../src/format/tensor_codec.js';
import { ENCODINGS, type TensorEncoding } from '../../src/format/tensor_encodings.js';
import { NnzipError } from '../../src/ir/errors.js';
import { f32, Tensor, type DType } from '../../src/ir/tensor.js';
import { GraphBuilder } from '../onnx/graph_builder.js';

/** A one-tensor file: the header says `dims`, the body is `body(w)`. */
function bomb(dtype: DType, encoding: TensorEncoding, dims: number[], body: (w: BitWriter) => void): Uint8Array {
  const w = new BitWriter(64);
  writeTensorHeader(w, { name: new TextEncoder().encode('w'), dtypeCode: DTYPE_CODES.indexOf(dtype), encodingCode: ENCODINGS.indexOf(encoding), dims });
  body(w);
  return assembleNnz([{ kind: SECTION_KINDS.tensor, payload: w.finish() }]);
}

/** Refused with an NnzipError matching `re`, fast (nothing big was allocated or looped over). */
function refused(bytes: Uint8Array, re: RegExp): void {
  const t0 = performance.now();
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => decodeNnz(bytes, 'bomb.nnz'), (e: unknown) => {
    assert.ok(e instanceof NnzipError, String(e));
    assert.match(e.message, re);
    assert.match(e.message, /^bomb\.nnz: /);
    return true;
  });
  assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'allocated over 64 MiB');
}

/** Within the cap of a small file, so the per-field checks speak first. */
const BIG = [1 << 20];

test('counts backed by bits are checked before allocating: raw, f16, ints, streams, centroids, sparse values', () => {
  refused(bomb('float32', 'raw', BIG, (w) => w.writeBits(0, 32)), /truncated data \(needs 33554432 more bits/);
  refused(bomb('float32', 'f16', BIG, (w) => w.writeBits(0, 16)), /1048576 float16 values do not fit the \d+ bits left/);
  refused(bomb('int32', 'ints', BIG, (w) => (w.writeVarint(0), w.writeBits(8, 7))), /integers of 8 bits do not fit/);
  // codebook, 2 centroids, no zeros: a fixed-width stream of 1 bit per symbol
  refused(bomb('float32', 'codebook', BIG, (w) => (w.writeVarint(2), w.writeBit(0), w.writeBits(0, 32), w.writeBits(0, 32), w.writeBit(0), w.writeBit(0))), /symbols of at least 1 bits do not fit/);
  refused(bomb('float32', 'codebook', [100], (w) => w.writeVarint(65535)), /codebook of 65535 centroids does not fit/);
  // sparse-f32: m entries need 32 bits each
  refused(bomb('float32', 'sparse-f32', BIG, (w) => (w.writeBits(8, 5), w.writeVarint(1 << 20))), /1048576 sparse entries do not fit/);
  refused(bomb('float32', 'sparse-f32', [10], (w) => (w.writeBits(8, 5), w.writeVarint(11))), /11 sparse entries for 10 elements/);
});

test('elements that take no bits are capped per byte of file (the overall cap)', () => {
  // a constant int8 tensor (width 0), all zeros after no sparse entry, a one-symbol codebook stream
  const constant = bomb('int8', 'ints', [2 ** 31 - 2], (w) => (w.writeVarint(0), w.writeBits(0, 7)));
  const emptySparse = bomb('float32', 'sparse-f32', [32768, 32768], (w) => (w.writeBits(16, 5), w.writeVarint(0)));
  const oneSymbol = bomb('float32', 'codebook', [1 << 21], (w) => (w.writeVarint(1), w.writeBit(0), w.writeBits(0x3f800000, 32), w.writeBit(0), w.writeBit(0)));
  for (const b of [constant, emptySparse, oneSymbol]) refused(b, /takes the file's tensors past 1048576 elements, the most a \d+-byte file may hold \(128 per byte/);
  assert.equal(elementLimit(10), 2 ** 20);
  assert.equal(elementLimit(1e6), ELEMENTS_PER_BYTE * 1e6);
  // the cap counts the whole file: two tensors that fit alone do not fit together
  const half = f32([1 << 19]);
  assert.equal(decodeNnz(encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'a', tensor: half }] })).tensors.get('a')!.tensor.size, 1 << 19);
  const two = encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'a', tensor: half }, { name: 'b', tensor: half }, { name: 'c', tensor: f32([1]) }] });
  assert.throws(() => decodeNnz(two, 'two.nnz'), /section 3 \(tensor\) \(tensor "c"\): shape \[1\] takes the file's tensors past 1048576/);
});

test('a model sparser than the cap decodes with maxElements, bit for bit', () => {
  const w = new Float32Array(4096 * 1024);
  w[5] = 1.5;
  w[w.length - 1] = -2;
  const bytes = encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'w', tensor: f32([4096, 1024], w) }] });
  assert.ok(bytes.length < 200, `${bytes.length} bytes`);
  assert.throws(() => decodeNnz(bytes, 'sparse.nnz'), /a model this sparse needs decode option maxElements/);
  const t = decodeNnz(bytes, 'sparse.nnz', { maxElements: w.length }).tensors.get('w')!;
  assert.deepEqual(t.tensor.data, w);
  assert.deepEqual([...t.sparse!.positions], [5, w.length - 1]);
});

test('the graph section inflates to at most 1 MiB + 32 bytes per stored byte (a deflate bomb stops early)', () => {
  const b = new GraphBuilder(1);
  const g = b.build([b.op1('Relu', [b.input('x', [1, 4])])], 17);
  const good = graphToNnz(g).bytes;
  assert.equal(nnzToGraph(good, 'good.nnz').graph.nodes.length, 1);
  const padded = new Uint8Array(64 << 20).fill(0x20);
  padded.set(new TextEncoder().encode('{}'), padded.length - 2);
  const section = deflateSync(padded, { level: 9 });
  const file = assembleNnz([{ kind: SECTION_KINDS.graph, payload: section }]);
  const t0 = performance.now();
  assert.throws(() => nnzToGraph(file, 'bomb.nnz'), { message: new RegExp(`^bomb\\.nnz: the graph section inflates to over ${maxGraphJsonBytes(section.length)} bytes`) });
  assert.ok(performance.now() - t0 < 2000);
  const notDeflate = assembleNnz([{ kind: SECTION_KINDS.graph, payload: Uint8Array.of(1, 2, 3, 4) }]);
  assert.throws(() => nnzToGraph(notDeflate, 'x.nnz'), { message: 'x.nnz: the graph section does not decode; the file is corrupt' });
});

test('a dimension over 2^31 - 1 is refused even when another dimension is 0', () => {
  refused(bomb('float32', 'raw', [0, 2 ** 40], () => undefined), /shape \[0,1099511627776\] has a dimension over 2147483647/);
  const empty = new Tensor('float32', [0, 5]);
  assert.deepEqual(decodeNnz(encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'e', tensor: empty }] })).tensors.get('e')!.tensor.shape, [0, 5]);
});
