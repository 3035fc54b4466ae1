import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNnz, encodeNnz, encodeNnzWithReport, FORMAT_MAJOR, FORMAT_MINOR } from '../../src/format/container.js';
import { decodeTensorPayload, encodeTensorPayload, EncodedTensorSpec, sharedTensorSpec } from '../../src/format/tensor_codec.js';
import { ENCODINGS, TensorEncoding } from '../../src/format/tensor_encodings.js';
import { fromFloat16Bits, toFloat16Bits } from '../../src/format/float16.js';
import { indexArray } from '../../src/format/codebook.js';
import { NnzipError } from '../../src/ir/errors.js';
import { DType, Tensor, f32, fromNumbers, i64 } from '../../src/ir/tensor.js';
import { bitsOf, randInt, rng, SIZES, sparseWeights } from './rng.js';

/** A tensor shared with a k-entry codebook at the given density (index k = pruned); the centroids are not evenly spaced (not a grid). */
function sharedSpec(name: string, r: () => number, n: number, k: number, density: number): EncodedTensorSpec {
  const centroids = Float32Array.from({ length: k }, (_, j) => Math.sinh((2 * (j - k / 2 + 0.5)) / k) / 4);
  const indices = indexArray(n, k);
  for (let i = 0; i < n; i++) indices[i] = r() < density ? Math.max(0, Math.min(k - 1, Math.floor(k / 2 + (r() + r() - 1) * k * 0.6))) : k;
  return sharedTensorSpec(name, [n], { centroids, indices });
}

function intTensor(dtype: DType, r: () => number, n: number, lo: number, hi: number): Tensor {
  return fromNumbers(dtype, [n], Array.from({ length: n }, () => lo + randInt(r, hi - lo + 1)));
}

function specs(): EncodedTensorSpec[] {
  const r = rng(42);
  const out: EncodedTensorSpec[] = [];
  for (const n of SIZES) {
    out.push({ name: `dense${n}`, tensor: f32([n], sparseWeights(r, n, 1)) });
    out.push({ name: `pruned${n}`, tensor: f32([n], sparseWeights(r, n, 0.08)) });
    out.push(sharedSpec(`shared${n}`, r, n, 32, 0.1));
    out.push(sharedSpec(`shared8bit${n}`, r, n, 256, 0.3));
  }
  out.push(sharedSpec('fc1.weight', r, 300 * 784, 32, 0.08));
  out.push({ name: 'bias', tensor: f32([7], [0.1, 0.2, 0.3, -1, 2, 3, Math.E]), f16: true }); // not on a grid: f16 is the smallest
  out.push({ name: 'halves', tensor: f32([3], [0.5, -0.25, 8]) });
  out.push({ name: 'shape', tensor: i64([2], [-1, 784]) });
  out.push({ name: 'big64', tensor: i64([3], [-(2n ** 63n), 0, 2n ** 63n - 1n]) });
  out.push({ name: 'i32', tensor: intTensor('int32', r, 1000, -(2 ** 31), 2 ** 31 - 1) });
  out.push({ name: 'i8', tensor: intTensor('int8', r, 7, -128, 127) });
  out.push({ name: 'u8', tensor: intTensor('uint8', r, 7, 0, 255) });
  out.push({ name: 'i16', tensor: intTensor('int16', r, 7, -300, 300) });
  out.push({ name: 'u16', tensor: intTensor('uint16', r, 7, 0, 65535) });
  out.push({ name: 'mask', tensor: intTensor('bool', r, 1000, 0, 1) });
  out.push({ name: 'f64', tensor: new Tensor('float64', [2], Float64Array.from([Math.PI, -0])) });
  out.push({ name: 'scalar', tensor: f32([], [1.5]) });
  out.push({ name: 'empty', tensor: f32([3, 0]) });
  out.push({ name: 'ναme/ünïcode', tensor: f32([1], [-0]) });
  return out;
}

function sameData(a: Tensor, b: Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, what);
  assert.deepEqual(a.shape, b.shape, what);
  const bytes = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  assert.deepEqual(bytes(a), bytes(b), `${what}: data differs`);
}

function expected(spec: EncodedTensorSpec, encoding: TensorEncoding): Tensor {
  if (encoding !== 'f16') return spec.tensor;
  const d = Float32Array.from(spec.tensor.data as Float32Array, (v) => fromFloat16Bits(toFloat16Bits(v)));
  return f32(spec.tensor.shape, d);
}

test('auto encoding round-trips every tensor bit-exactly (lossy f16 only where asked)', () => {
  const all = specs();
  const bytes = encodeNnz({ graph: Uint8Array.from([8, 1, 2]), tensors: all, meta: { model: 'test', n: 1 } });
  const out = decodeNnz(bytes, 'file.nnz');
  assert.deepEqual(out.version, { major: FORMAT_MAJOR, minor: FORMAT_MINOR });
  assert.deepEqual([...out.graph], [8, 1, 2]);
  assert.deepEqual(out.meta, { model: 'test', n: 1 });
  assert.deepEqual([...out.tensors.keys()], all.map((s) => s.name));
  for (const spec of all) {
    const t = out.tensors.get(spec.name)!;
    sameData(t.tensor, t.encoding === 'f16' ? expected(spec, 'f16') : spec.tensor, spec.name); // lossy only where asked (and only if smallest)
  }
  assert.equal(out.tensors.get('bias')!.encoding, 'f16');
  assert.equal(out.tensors.get('halves')!.encoding, 'f16'); // exact, so chosen without asking
  assert.equal(out.tensors.get('fc1.weight')!.encoding, 'sparse-codebook');
  assert.equal(out.tensors.get('shape')!.encoding, 'ints');
});

test('every applicable encoding round-trips, and auto is never larger (sizes 0, 1, 7, 1000)', () => {
  for (const spec of specs().filter((s) => s.name !== 'fc1.weight')) {
    const auto = encodeNnzWithReport({ graph: new Uint8Array(0), tensors: [spec] }).sections[0];
    let tried = 0;
    for (const encoding of ENCODINGS) {
      let bytes: Uint8Array;
      try {
        bytes = encodeNnz({ graph: new Uint8Array(0), tensors: [{ ...spec, encoding }] });
      } catch (e) {
        assert.ok(e instanceof NnzipError && /does not apply/.test(e.message), `${spec.name} ${encoding}: ${e}`);
        continue;
      }
      tried++;
      const t = decodeNnz(bytes).tensors.get(spec.name)!;
      assert.equal(t.encoding, encoding);
      sameData(t.tensor, expected(spec, encoding), `${spec.name} as ${encoding}`);
      if (encoding !== 'f16' || spec.f16 || spec.name === 'halves') assert.ok(auto.bytes <= t.bytes, `${spec.name}: auto ${auto.bytes} > ${encoding} ${t.bytes}`);
    }
    assert.ok(tried >= (spec.tensor.dtype === 'float64' ? 1 : 2), spec.name);
  }
});

test('decoded tensors keep their compressed form (codebook, positions, indices)', () => {
  const spec = sharedSpec('w', rng(5), 1000, 32, 0.1);
  const cb = spec.codebook!;
  for (const encoding of ['sparse-codebook', 'codebook', 'sparse-f32'] as const) {
    for (const gapBits of [2, 5, 9]) {
      const t = decodeNnz(encodeNnz({ graph: new Uint8Array(0), tensors: [{ ...spec, encoding, gapBits }] })).tensors.get('w')!;
      const nonzero = [...cb.indices.keys()].filter((i) => cb.indices[i] < 32);
      if (encoding !== 'sparse-f32') {
        assert.deepEqual(t.codebook!.centroids, cb.centroids);
        assert.deepEqual([...t.codebook!.indices], [...cb.indices]);
      }
      if (encoding === 'codebook') continue;
      const s = t.sparse!;
      assert.equal(s.gapBits, gapBits);
      assert.deepEqual([...s.positions], nonzero);
      assert.deepEqual([...s.values], nonzero.map((i) => cb.centroids[cb.indices[i]]));
      if (encoding === 'sparse-codebook') assert.deepEqual([...s.indices!], nonzero.map((i) => cb.indices[i]));
      const maxGap = Math.max(...nonzero.map((p, j) => p - (j ? nonzero[j - 1] : -1) - 1));
      assert.equal(s.fillers > 0, maxGap > 2 ** gapBits - 1, `fillers at b=${gapBits}`);
    }
  }
});

test('Huffman can be forced on or off; auto is no larger than either', () => {
  const spec = sharedSpec('w', rng(6), 20000, 32, 0.08);
  const size = (huffman?: boolean) => encodeNnzWithReport({ graph: new Uint8Array(0), tensors: [{ ...spec, encoding: 'sparse-codebook', huffman }] });
  const on = size(true);
  const off = size(false);
  const auto = size();
  assert.deepEqual(on.sections[0].huffman, { gaps: true, values: true });
  assert.deepEqual(off.sections[0].huffman, { gaps: false, values: false });
  assert.ok(auto.bytes.length <= Math.min(on.bytes.length, off.bytes.length));
  assert.ok(on.bytes.length < off.bytes.length, 'skewed indices and gaps compress');
  const t = decodeNnz(on.bytes).tensors.get('w')!;
  sameData(t.tensor, spec.tensor, 'huffman on');
});

test('same input, same bytes; empty graph and no meta cost nothing', () => {
  const a = encodeNnz({ graph: new Uint8Array(0), tensors: specs() });
  const b = encodeNnz({ graph: new Uint8Array(0), tensors: specs() });
  assert.deepEqual(a, b);
  const tiny = encodeNnz({ graph: new Uint8Array(0), tensors: [] });
  assert.equal(tiny.length, 9); // magic, version, file CRC
  const out = decodeNnz(tiny);
  assert.equal(out.graph.length, 0);
  assert.equal(out.meta, undefined);
  assert.equal(out.tensors.size, 0);
});

function isNnzError(e: unknown, pattern: RegExp): boolean {
  return e instanceof NnzipError && pattern.test(e.message);
}

test('a newer major version is refused with a clear message', () => {
  const bytes = encodeNnz({ graph: new Uint8Array(0), tensors: [] });
  bytes[3] = FORMAT_MAJOR + 1;
  assert.throws(() => decodeNnz(bytes, 'file.nnz'), (e: unknown) => e instanceof NnzipError && e.message === `file.nnz: format version ${FORMAT_MAJOR + 1} is newer than this nnzip reads (${FORMAT_MAJOR}); upgrade nnzip`);
  bytes[3] = 1;
  assert.throws(() => decodeNnz(bytes, 'file.nnz'), /format version 1 is not supported/);
  bytes[0] = 0x50;
  assert.throws(() => decodeNnz(bytes, 'file.nnz'), /file\.nnz: not an \.nnz file/);
});

test('a corrupt section names the file, the section and the tensor', () => {
  const all = specs().slice(0, 6);
  const { bytes, sections } = encodeNnzWithReport({ graph: Uint8Array.from([1, 2, 3]), tensors: all });
  // sections: graph, then the tensors; corrupt the data of the 4th tensor (section 5)
  let offset = 5;
  for (let i = 0; i < 4; i++) offset += sections[i].bytes;
  const bad = bytes.slice();
  bad[offset + sections[4].bytes - 5] ^= 0x10;
  assert.throws(() => decodeNnz(bad, 'file.nnz'), (e: unknown) => isNnzError(e, new RegExp(`^file\\.nnz: section 5 \\(tensor "${all[3].name}"\\): CRC-32 mismatch`)));
  const tail = bytes.slice();
  tail[tail.length - 1] ^= 1;
  assert.throws(() => decodeNnz(tail, 'file.nnz'), /file\.nnz: whole-file CRC-32 mismatch/);
});

test('every single-byte corruption and every truncation is an NnzipError naming the file', () => {
  const bytes = encodeNnz({ graph: Uint8Array.from([1, 2, 3]), tensors: specs().slice(0, 8), meta: { a: 1 } });
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice();
    bad[i] ^= 0x41;
    assert.throws(() => decodeNnz(bad, 'm.nnz'), (e: unknown) => isNnzError(e, /^m\.nnz: /), `flip at ${i}`);
  }
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodeNnz(bytes.subarray(0, n), 'm.nnz'), (e: unknown) => isNnzError(e, /^m\.nnz: .*(truncated|corrupt)/), `cut at ${n}`);
  }
});

test('corrupt payloads behind valid CRCs still fail cleanly (seeded fuzz)', () => {
  const r = rng(77);
  const all = specs().filter((s) => s.tensor.size <= 1000);
  for (const spec of all) {
    for (const encoding of ENCODINGS) {
      let payload: Uint8Array;
      try {
        payload = encodeTensorPayload({ ...spec, encoding }).payload;
      } catch {
        continue; // encoding does not apply
      }
      for (let trial = 0; trial < 20 && payload.length > 0; trial++) {
        const bad = payload.slice(0, trial % 4 === 3 ? randInt(r, payload.length) : payload.length);
        if (bad.length > 0 && trial % 4 !== 3) bad[randInt(r, bad.length)] ^= 1 << randInt(r, 8);
        try {
          decodeTensorPayload(bad, 'p');
        } catch (e) {
          assert.ok(e instanceof NnzipError, `${spec.name} ${encoding} trial ${trial}: ${e}`);
        }
      }
    }
  }
});

test('bad specs are NnzipErrors naming the tensor and option', () => {
  const w = f32([4], [1, 0, 2, 0]);
  const enc = (s: Partial<EncodedTensorSpec>) => () => encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'w', tensor: w, ...s }] });
  assert.throws(enc({ gapBits: 0 }), /tensor "w": option gapBits=0 is outside 1\.\.16/);
  assert.throws(enc({ gapBits: 17 }), /gapBits=17/);
  assert.throws(enc({ huffmanLimit: 30 }), /huffmanLimit=30/);
  assert.throws(enc({ encoding: 'zip' as TensorEncoding }), /unknown encoding "zip"/);
  assert.throws(enc({ tensor: i64([1], [1]), encoding: 'sparse-f32' }), /encoding "sparse-f32" does not apply to this int64 tensor/);
  assert.throws(enc({ encoding: 'ints' }), /"ints" does not apply/);
  const cb = { centroids: Float32Array.from([1, 2]), indices: Uint8Array.from([0, 2, 1, 1]) };
  assert.throws(enc({ codebook: cb }), /tensor "w": element 3 is 0 but codebook index 1 gives 2/);
  assert.throws(enc({ codebook: { ...cb, indices: Uint8Array.from([0, 2]) } }), /2 indices for 4 elements/);
  assert.throws(enc({ codebook: { ...cb, indices: Uint8Array.from([0, 3, 1, 2]) } }), /index 3 at element 1 is past the 2 centroids/);
  assert.throws(() => encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'a', tensor: w }, { name: 'a', tensor: w }] }), /"a" is listed twice/);
  assert.throws(() => sharedTensorSpec('s', [3], cb), /tensor "s": codebook has 4 indices for shape \[3\]/);
  assert.throws(() => encodeNnz({ graph: new Uint8Array(0), tensors: [], meta: { x: 1n } as unknown as Record<string, unknown> }), /meta must be a JSON-serialisable object/);
});
