// The SVG line chart: structure, coordinates, escaping, determinism, bad input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { escapeXml, lineChart, niceTicks } from '../../src/report/chart.js';

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

describe('niceTicks', () => {
  it('round steps of 1, 2 or 5 × 10^k inside the range', () => {
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.13, 0.97), [0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(niceTicks(-30, 70), [-20, 0, 20, 40, 60]);
    assert.deepEqual(niceTicks(0, 1000, 4), [0, 500, 1000]);
    assert.deepEqual(niceTicks(5, 5), [5]);
  });
});

describe('lineChart', () => {
  const series = [
    { name: 'conv1', points: [[1, 1], [0.5, 0.9], [0.1, 0.2]] as [number, number][] },
    { name: 'fc <1> & "x"', points: [[1, 1], [0.1, 0.6]] as [number, number][] },
  ];
  const svg = lineChart(series, { title: 'Sensitivity', xLabel: 'density', yLabel: 'accuracy', xDomain: [0, 1], yDomain: [0, 1] });

  it('is one SVG document with a polyline per series and a marker per point', () => {
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400"'));
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.equal(count(svg, /<polyline /g), 2);
    assert.equal(count(svg, /<circle /g), 5);
    assert.equal(count(svg, /<g /g), count(svg, /<\/g>/g));
    for (const t of ['Sensitivity', 'density', 'accuracy', 'conv1']) assert.ok(svg.includes(`>${t}<`), t);
  });

  it('maps data to the plot area: x right, y up, points sorted by x', () => {
    // 640×400, margins left 60 / top 36 / bottom 48, legend 150 + right 16: plot 414 × 316.
    const line = svg.match(/<polyline [^>]*points="([^"]+)"/)?.[1];
    assert.equal(line, '101.4,288.8 267,67.6 474,36');
  });

  it('escapes text', () => {
    assert.ok(svg.includes('fc &lt;1&gt; &amp; &quot;x&quot;'));
    assert.ok(!svg.includes('fc <1>'));
    assert.equal(escapeXml(`a<b>&'"`), 'a&lt;b&gt;&amp;&apos;&quot;');
  });

  it('same input, same bytes; default domains cover the data on whole ticks', () => {
    assert.equal(lineChart(series, { title: 'Sensitivity', xLabel: 'density', yLabel: 'accuracy', xDomain: [0, 1], yDomain: [0, 1] }), svg);
    const auto = lineChart([{ name: 'a', points: [[0.1, 0.23], [0.9, 0.97]] }]);
    for (const t of ['0.2', '1']) assert.ok(auto.includes(`>${t}</text>`), `tick ${t}`);
    const flat = lineChart([{ name: 'a', points: [[0, 3], [1, 3]] }]);
    assert.ok(!flat.includes('NaN'));
  });

  it('bad input: no series, empty series, non-finite points, bad domain or size', () => {
    const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: Error) => e instanceof NnzipError && re.test(e.message));
    bad(() => lineChart([]), /no series/);
    bad(() => lineChart([{ name: 'a', points: [] }]), /series "a" has no points/);
    bad(() => lineChart([{ name: 'a', points: [[0, Number.NaN]] }]), /series "a" point 0 is \(0, NaN\)/);
    bad(() => lineChart(series, { yDomain: [1, 0] }), /yDomain \[1, 0\] must be two finite numbers, low < high/);
    bad(() => lineChart(series, { width: 50 }), /too small/);
  });
});
