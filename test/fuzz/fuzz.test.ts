// The short fuzz run of `npm test` (the long one is `npm run fuzz`, test/fuzz/run.ts):
// structure-aware mutants of ONNX and .nnz files are refused with one NnzipError line,
// or load and run; a .nnz that decodes also decompresses to an ONNX that loads again.
// fast-check shrinks a failure and prints its seed and path for replay.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { caseArbitrary, caseBytes, FAILURES, runCase, type Format, type OutcomeKind } from './cases.js';
import { makeSeeds, type Seeds } from './seeds.js';

let seeds: Seeds;
before(async () => {
  seeds = await makeSeeds(true);
});

async function fuzz(format: Format, numRuns: number): Promise<Record<string, number>> {
  const counts: Partial<Record<OutcomeKind, number>> = {};
  await fc.assert(
    fc.asyncProperty(caseArbitrary(format, seeds), async (c) => {
      const o = await runCase(format, caseBytes(format, seeds, c));
      counts[o.kind] = (counts[o.kind] ?? 0) + 1;
      if (FAILURES.includes(o.kind)) throw new Error(`${o.kind}: ${o.error}\n${o.stack}`);
    }),
    { seed: 20250601, numRuns },
  );
  return counts;
}

test('ONNX mutants: refused cleanly or loaded and run', async (t) => {
  const counts = await fuzz('onnx', 300);
  t.diagnostic(JSON.stringify(counts));
  assert.ok((counts.ok ?? 0) > 0 && (counts.rejected ?? 0) > 0, JSON.stringify(counts));
});

test('.nnz mutants: refused cleanly, or decoded, decompressed to an ONNX that loads, and run', async (t) => {
  const counts = await fuzz('nnz', 300);
  t.diagnostic(JSON.stringify(counts));
  assert.ok((counts.ok ?? 0) > 0 && (counts.rejected ?? 0) > 0, JSON.stringify(counts));
});
