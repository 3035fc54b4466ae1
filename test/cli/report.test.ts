// nnzip report from the command line: bad input gets one line and exit 2; a
// sensitivity analysis alone makes a page with its chart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { report } from '../../src/cli/commands/report.js';
import { NnzipError } from '../../src/ir/errors.js';
import { assertOneLineError, nnzip, tempDir } from './helpers.js';

const SENSITIVITY = {
  mode: 'unstructured', densities: [1, 0.5, 0.1], baseline: 0.99,
  layers: [{ layer: 'fc1', op: 'Gemm', weights: 1000, coupled: [], accuracy: [0.99, 0.98, 0.6] }, { layer: 'fc2', op: 'Gemm', weights: 100, coupled: [], accuracy: [0.99, 0.97, 0.9] }],
};

test('report: a sensitivity JSON becomes one offline HTML file with an SVG chart and the table', () => {
  const dir = tempDir();
  const sens = join(dir, 'sens.json'), out = join(dir, 'r.html');
  writeFileSync(sens, JSON.stringify(SENSITIVITY));
  const r = nnzip(['report', sens, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 1);
  assert.match(html, /<svg[^>]*class="marks"/);
  assert.ok(!/<script|src="http|href="http/.test(html), 'no script, nothing fetched');
  assert.match(html, /data-key="accuracy@0.1" data-value="0.6">60.00%</);
});

test('report bad input: one line, exit 2', async () => {
  const dir = tempDir();
  const write = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
  const out = join(dir, 'r.html');
  const old = write('old.json', JSON.stringify({ stages: [{ stage: 'original', bytes: 10, ratio: 1 }], layers: [], originalBytes: 10, fileBytes: 5 }));
  const cases: [string[], RegExp][] = [
    [['-o', out], /give at least one JSON file/],
    [[write('a.json', '{}')], /-o report.html is required/],
    [[write('b.json', '{}'), '-o', join(dir, 'r.pdf')], /must end in \.html/],
    [[join(dir, 'missing.json'), '-o', out], /missing\.json: cannot read \(ENOENT\)/],
    [[write('c.json', 'not json'), '-o', out], /c\.json: not JSON/],
    [[write('d.json', '{"hello": 1}'), '-o', out], /d\.json: not a document nnzip report knows/],
    [[old, '-o', out], /old\.json: no histograms: this run was written by an older nnzip/],
    [[write('e.json', JSON.stringify({ ...SENSITIVITY, layers: [{ layer: 'x', accuracy: [1] }] })), '-o', out], /e\.json: layers\[0\] needs a layer name and 3 accuracies/],
    [[write('f.json', JSON.stringify({ models: { rows: [{ model: 'm', batch: 1, threads: 1, peers: {} }] } })), '-o', out], /f\.json: no timing in the benchmark rows/],
  ];
  // the CLI's contract once (one line, exit 2), the other cases in this process
  assert.equal(assertOneLineError(nnzip(['report', ...cases[0][0]]), cases[0][1]), undefined);
  for (const [args, re] of cases.slice(1)) {
    await assert.rejects(report.run(args), (e: Error) => e instanceof NnzipError && re.test(e.message), args.join(' '));
  }
});
