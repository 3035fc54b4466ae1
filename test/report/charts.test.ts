// The report's charts: Vega-Lite specs rendered to SVG, the charting library
// imported lazily through ir/optional (no module of the library or the CLI imports it statically).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NnzipError } from '../../src/ir/errors.js';
import { bitsSpec, renderSvg, speedSpec, tradeoffSpec } from '../../src/report/charts.js';
import type { StageSize } from '../../src/report/compress_report.js';

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

test('vega and vega-lite are imported only on first use (importOptional) in report/charts', () => {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
  const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : f.endsWith('.js') ? [join(d, f)] : []));
  const users = files(src).filter((f) => /['"]vega(-lite)?['"]/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(users.map((f) => f.slice(src.length + 1)), ['report/charts.js']);
  const text = readFileSync(join(src, 'report/charts.js'), 'utf8');
  assert.equal(count(text, /load\(\s*['"]vega(-lite)?['"]\s*\)/g), 2, 'both through importOptional');
  assert.equal(count(text, /from\s+['"]vega/g), 0);
});

test('charts render to SVG with their axes and one mark per datum', async () => {
  const stages: StageSize[] = [
    { stage: 'original (float32 weights)', bytes: 1_000_000, ratio: 1, accuracy: 0.99 },
    { stage: 'P: pruned, relative index', bytes: 80_000, ratio: 12.5, accuracy: 0.989 },
    { stage: 'P+Q+H: + Huffman coding', bytes: 20_000, ratio: 50, accuracy: 0.988 },
  ];
  const tradeoff = await renderSvg(tradeoffSpec(stages));
  assert.equal(count(tradeoff, /class="mark-group role-axis"/g), 4);
  for (const name of ['original', 'P', 'P+Q+H']) assert.ok(tradeoff.includes(`>${name}</text>`), name);
  const bits = await renderSvg(bitsSpec([{ layer: 'fc1', params: 1000, keptPct: 10, stored: 'codebook', bits: 5, bytesBefore: 4000, bytesAfter: 100 }]));
  assert.ok(bits.includes('>0.8</text>'), 'the bar is labelled with 100 × 8 / 1000 bits');
  const speed = await renderSvg(speedSpec([{ setting: 'LeNet-5, batch 1, 1 thread', peer: 'nnzip', ms: 0.05 }, { setting: 'LeNet-5, batch 1, 1 thread', peer: 'ort-web', ms: 0.2 }], 'Speed'));
  assert.equal(count(speed, /aria-roledescription="bar"/g), 2);
});

test('the accuracy-vs-size chart needs accuracies: a run without data says so', () => {
  assert.throws(() => tradeoffSpec([{ stage: 'original', bytes: 10, ratio: 1 }]), (e: Error) => e instanceof NnzipError && /no stage has an accuracy/.test(e.message));
});
