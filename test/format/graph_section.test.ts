// The .nnz graph section (deflated JSON, src/ir/serialize.ts) read from a file: every
// field is checked before the graph is built, so a malformed section behind a valid
// CRC is one error line naming the field (never a TypeError), and whatever decodes
// also exports to an ONNX file that loads again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'fflate';
import { assembleNnz, nnzSections, SECTION_KINDS, type RawSection } from '../../src/format/container.js';
import { graphToNnz, nnzToGraph } from '../../src/format/nnz.js';
import { NnzipError } from '../../src/ir/errors.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { convNet, miscNet, quantNet } from '../onnx/nets.js';

type Json = Record<string, unknown>;

const base = graphToNnz(quantNet(13)).bytes;

/** The file with its graph JSON edited by `edit` (CRCs recomputed, so only the JSON is wrong). */
function withGraph(edit: (j: Json) => void, bytes = base): Uint8Array {
  const { sections } = nnzSections(bytes);
  const out: RawSection[] = sections.map((s) => {
    if (s.kind !== SECTION_KINDS.graph) return s;
    const j = JSON.parse(new TextDecoder().decode(inflateSync(s.payload)));
    edit(j);
    return { kind: s.kind, payload: deflateSync(new TextEncoder().encode(JSON.stringify(j))) };
  });
  return assembleNnz(out);
}

function malformed(edit: (j: Json) => void, re: RegExp): void {
  assert.throws(() => nnzToGraph(withGraph(edit), 'm.nnz'), (e: unknown) => {
    assert.ok(e instanceof NnzipError, `not an NnzipError: ${String(e)}`);
    assert.match(e.message, /^m\.nnz: /);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, re);
    return true;
  });
}

const nodes = (j: Json) => j.nodes as unknown[][];
const inputs = (j: Json) => j.inputs as Json[];

test('the probed malformations are refused naming the field: dims [[[]]] or "", no dtype, null attributes, lists that are not', () => {
  malformed((j) => (inputs(j)[0].shape = [[[]]]), /inputs\[0\]\.shape\[0\] \[\[\]\] is not a dimension/);
  malformed((j) => (inputs(j)[0].shape = ['', 4, 3, 3]), /inputs\[0\]\.shape\[0\] "" is not a dimension/);
  malformed((j) => (inputs(j)[0].shape = [-1, 4, 3, 3]), /inputs\[0\]\.shape\[0\] -1 is not a dimension/);
  malformed((j) => delete inputs(j)[0].dtype, /inputs\[0\]\.dtype undefined is not a data type/);
  malformed((j) => (inputs(j)[0].dtype = 'float16'), /inputs\[0\]\.dtype "float16" is not a data type/);
  malformed((j) => (nodes(j)[0][4] = null), /node "QuantizeLinear_0" attributes is not an object/);
  malformed((j) => (j.initializers = 7), /initializers is not a list/);
  malformed((j) => (j.inputs = { 0: 1 }), /inputs is not a list/);
  malformed((j) => (nodes(j)[0][3] = 5), /node "QuantizeLinear_0" outputs is not a list/);
  malformed((j) => (nodes(j)[0] = ['x', 'Relu']), /nodes\[0\] is not a list of 5/);
  malformed((j) => (j.outputs = []), /the graph has no outputs/);
  malformed((j) => (j.initializers = [...(j.initializers as string[]), (j.initializers as string[])[0]]), /initializer "xs" is listed twice/);
  malformed((j) => (nodes(j)[0][4] = { axis: [1, 'a'] }), /attribute axis mixes kinds of values/);
  malformed((j) => (nodes(j)[0][4] = { axis: { tensor: { dtype: 'int64', shape: [2 ** 30, 2 ** 30], data: [1] } } }), /tensor shape\[0\] 1073741824 is not a dimension|has 1 values for shape/);
  malformed((j) => (nodes(j)[0][4] = { axis: { tensor: { dtype: 'int64', shape: [1 << 20], data: [1] } } }), /has 1 values for shape \[1048576\]/);
  malformed((j) => (j.name = null), /name is not a string/);
  assert.throws(() => nnzToGraph(withGraph(() => undefined, assembleNnz([{ kind: SECTION_KINDS.graph, payload: deflateSync(new TextEncoder().encode('[1]')) }])), 'm.nnz'), /the graph is not an object/);
});

test('the opset must be an integer nnzip reads (1e300 and "x" are refused)', () => {
  for (const opset of [1e300, 'x', 10, 19, 13.5, null]) malformed((j) => (j.opset = opset), /opset .* is not one of 11–18/);
});

test('a tensor section the graph does not list, and a listed one the file lacks, are refused', () => {
  malformed((j) => (j.initializers = (j.initializers as string[]).slice(1)), /tensor "xs" is not one of the graph's initializers/);
  malformed((j) => (j.initializers = [...(j.initializers as string[]), 'ghost']), /tensor "ghost" is missing from the file/);
});

test('a well-formed section that describes a bad graph is refused by verify, naming the node', () => {
  malformed((j) => (nodes(j)[1][1] = 'Swish'), /the stored graph is invalid \(node "DequantizeLinear_1" \(Swish\): unknown op Swish\)/);
  malformed((j) => (nodes(j)[0][2] = ['x']), /node "QuantizeLinear_0" \(QuantizeLinear\): has 1 inputs, QuantizeLinear takes 2 to 3/);
  // an attribute named like an Object.prototype member is unknown (it was a TypeError in ONNX import)
  malformed((j) => (nodes(j)[0][4] = JSON.parse('{"constructor": 1, "__proto__": 2}')), /node "QuantizeLinear_0" \(QuantizeLinear\): unknown attribute "constructor"/);
});

test('whatever decodes exports to ONNX that loads again (symbolic dims, every op of the nets)', () => {
  const files = [base, graphToNnz(convNet(11)).bytes, graphToNnz(miscNet(18)).bytes];
  for (const bytes of files) {
    const g = nnzToGraph(bytes, 'ok.nnz').graph;
    const back = importOnnx(exportOnnx(g), { source: 'decompressed.onnx' });
    assert.deepEqual(back.outputs.map((o) => o.name), g.outputs.map((o) => o.name));
  }
});
