// Round trip of the reference models: importOnnx → exportOnnx → onnxruntime-node gives
// the outputs onnxruntime gives on the original file; nnzip's reference runtime agrees too.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { resolveShape } from '../../src/ir/infer.js';
import { verify } from '../../src/ir/verify.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { runReference } from '../../src/runtime/reference.js';
import { FIXTURES, assertClose, fixture, ortRun, randomInput } from './helpers.js';

for (const [i, name] of FIXTURES.entries()) {
  test(`round trip ${name}: export → onnxruntime matches the original; reference runtime agrees`, async () => {
    const bytes = readFileSync(fixture(name));
    const graph = importOnnx(bytes, { source: `${name}.onnx` });
    const batch = name.startsWith('squeezenet') ? 1 : 2;
    const x = randomInput(resolveShape(graph.inputs[0], { N: batch }), 1000 + i);
    const feeds = { input: x };
    const want = (await ortRun(bytes, feeds)).logits;

    const exported = exportOnnx(graph);
    const again = importOnnx(exported, { source: 'exported.onnx' });
    verify(again);
    const got = (await ortRun(exported, feeds)).logits;
    assertClose(got, want, 1e-5, 1e-6, `${name} exported vs original (onnxruntime)`);

    const ref = runReference(graph, feeds).logits;
    // 1e-4 relative; the small absolute term covers outputs near zero
    assertClose(ref, want, 1e-4, 1e-5, `${name} nnzip reference vs onnxruntime`);
  });
}
