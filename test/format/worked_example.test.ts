// docs/format.md §6, byte for byte: the spec's worked example is what the encoder writes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeNnz, encodeNnz } from '../../src/format/container.js';
import { sharedTensorSpec } from '../../src/format/tensor_codec.js';
import { i64 } from '../../src/ir/tensor.js';
import { REPO } from '../onnx/helpers.js';

test('the worked example of docs/format.md §6 is what encodeNnz writes, and decodes back', () => {
  const indices = new Uint8Array(16).fill(2);
  [indices[1], indices[11], indices[14]] = [0, 1, 1];
  const w = sharedTensorSpec('w', [4, 4], { centroids: Float32Array.from([-0.5, 0.25]), indices }, { encoding: 'sparse-codebook', gapBits: 3, huffman: false });
  const bytes = encodeNnz({ graph: Uint8Array.from([0xaa, 0xbb]), tensors: [w, { name: 's', tensor: i64([2], [-1, 784]) }] });
  const doc = readFileSync(join(REPO, 'docs/format.md'), 'utf8');
  const block = doc.slice(doc.indexOf('## 6. Worked example'), doc.indexOf('## 7.'));
  // the hex pairs that start the byte lines (indented 0 or 3; the explanations under them are indented 5)
  const hex = [...block.matchAll(/^ {0,3}((?:[0-9a-f]{2}(?: |$))+)/gm)].flatMap((m) => m[1].trim().split(' '));
  assert.equal(Buffer.from(bytes).toString('hex'), hex.join(''));
  assert.equal(decodeNnz(bytes, 'example.nnz').tensors.get('w')!.sparse!.positions.join(), '1,11,14');
});
