// Latency at N threads (`nnzip search --threads 2`): the planner's estimate is each
// step's one-thread estimate shared by the threads it is split over; the measured
// latency times a session on that many worker threads; the threads are part of the
// problem (a 1-thread search keeps the id it had before the option existed).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { planGraph } from '../../src/compile/plan.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { parseReportInput } from '../../src/report/report_inputs.js';
import { toGraph } from '../../src/runtime/session.js';
import { latencyOf, type ProblemSpec } from '../../src/search/evaluate.js';
import { problemId } from '../../src/search/search.js';
import { assertOneLineError, nnzip, tempDir } from '../cli/helpers.js';
import { tinyMnist, TINY_FLAGS } from './tiny.js';

const vggsBytes = new Uint8Array(readFileSync(new URL('../../../fixtures/models/vggs_fmnist_dense.onnx', import.meta.url)));

test('estimated latency at 2 threads: each step\'s estimate over its split, against the plan; 1 thread unchanged', async () => {
  const g = toGraph(vggsBytes);
  const shapes = { [g.inputs[0].name]: [1, 1, 28, 28] };
  const want = (threads: number) => planGraph(g, { inputShapes: shapes, threads }).steps.reduce((s, st) => s + (st.estNs ?? 0) / st.split, 0) / 1e6;
  const one = planGraph(g, { inputShapes: shapes, threads: 1 }).steps;
  assert.ok(one.every((s) => s.split === 1) && one.filter((s) => s.kind === 'conv').every((s) => s.estNs! > 0));
  const two = planGraph(g, { inputShapes: shapes, threads: 2 }).steps;
  assert.ok(two.some((s) => s.split === 2), 'VGG-S has convs worth splitting at batch 1');
  const memo = new Map<string, number>();
  const [l1, l2] = [await latencyOf(g, 'estimated', memo, 1), await latencyOf(g, 'estimated', memo, 2)];
  assert.equal(l1, one.reduce((s, st) => s + (st.estNs ?? 0), 0) / 1e6);
  assert.equal(l2, want(2));
  assert.equal(await latencyOf(g, 'estimated', memo), l1, 'default: 1 thread');
  assert.ok(l2 < 0.75 * l1, `${l2} vs ${l1}`);
  assert.equal(memo.size, 0, 'estimates are not timed');
});

test('measured latency at 2 threads times its own session: a separate memo entry per thread count, positive figures', async () => {
  const g = tinyMnist();
  const memo = new Map<string, number>();
  const l1 = await latencyOf(g, 'measured', memo, 1);
  const l2 = await latencyOf(g, 'measured', memo, 2);
  assert.equal(memo.size, 2);
  assert.ok(l1 > 0 && l2 > 0 && Number.isFinite(l1) && Number.isFinite(l2));
  assert.equal(await latencyOf(g, 'measured', memo, 2), l2, 'memoised by plan and threads');
});

test('the threads are part of the problem: a 1-thread spec keeps its id, 2 threads is another search', () => {
  const bytes = new Uint8Array([1, 2, 3]);
  // a spec as a search made it before --threads existed (and makes it at 1 thread: no threads key), and the id it had then
  const spec: ProblemSpec = {
    dataset: 'mnist', seed: 7, train: 256, holdout: 200, proxy: { epochs: 1, maxSteps: 2, lr: 0.01, batch: 64 }, latency: 'estimated', flash: false,
  };
  assert.equal(problemId(bytes, spec), '4a55667f82f361ea', 'a 1-thread search resumes a state saved before --threads existed');
  assert.notEqual(problemId(bytes, { ...spec, threads: 2 }), problemId(bytes, spec));
});

const dir = tempDir();
const model = join(dir, 'tiny.onnx');
writeFileSync(model, exportOnnx(tinyMnist()));
const run = (out: string, extra: string[]) => nnzip(['search', model, ...TINY_FLAGS, '--target', 'latency=10ms', '--max-loss', '100', '--strategy', 'random',
  '--budget', '2', '--generation', '2', '--final-points', '0', ...extra, '-o', out]);

test('nnzip search --threads 2: the spec and front.json say 2 threads; the same folder with another thread count is refused; --threads 1 resumes a search without the flag', () => {
  const two = join(dir, 'two');
  const r = run(two, ['--threads', '2']);
  assert.equal(r.code, 0, r.stderr);
  const state = JSON.parse(readFileSync(join(two, 'state.json'), 'utf8'));
  assert.equal(state.spec.threads, 2);
  const front = JSON.parse(readFileSync(join(two, 'front.json'), 'utf8'));
  assert.equal(front.threads, 2);
  assert.equal(parseReportInput(JSON.stringify(front), 'front.json').kind, 'search');
  assert.equal(assertOneLineError(run(two, []), /state\.json: holds another search/), undefined);
  const one = join(dir, 'one');
  assert.equal(run(one, []).code, 0);
  assert.equal('threads' in JSON.parse(readFileSync(join(one, 'state.json'), 'utf8')).spec, false, 'left out at 1 thread');
  const again = run(one, ['--threads', '1']);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /\[\d+\]/, 'finished: nothing evaluated again');
  assert.throws(() => parseReportInput(JSON.stringify({ ...front, threads: 0 }), 'f.json'), /^NnzipError: f\.json: threads 0: an integer >= 1$/);
});

for (const bad of ['0', '1.5', 'two', '65']) {
  test(`nnzip search --threads ${bad}: one line, exit 2, nothing written`, () => {
    const out = join(dir, `bad_${bad}`);
    assert.equal(assertOneLineError(run(out, ['--threads', bad]), new RegExp(`--threads ${bad.replace('.', '\\.')}: must be an integer in \\[1, 64\\]`)), undefined);
    assert.equal(existsSync(out), false);
  });
}
