// Sensitivity analysis on LeNet-300-100 with a cheap evaluate: agreement of the
// pruned model's predictions with the dense model's on 128 MNIST test images
// (real digits: on random noise the dense model's answers are too degenerate).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Graph } from '../../../src/ir/graph.js';
import { loadDataset } from '../../../src/data/datasets.js';
import { f32, type Tensor } from '../../../src/ir/tensor.js';
import { runReference } from '../../../src/runtime/reference.js';
import { sensitivity, type SensitivityResult } from '../../../src/compress/prune/sensitivity.js';
import { sensitivityChart, sensitivityToCsv } from '../../../src/report/sensitivity.js';
import { fixture, paramCount } from './thin_graphs.js';

const g = fixture('lenet300_dense');
const feeds = { [g.inputs[0].name]: f32([128, 1, 28, 28], loadDataset('mnist', 'test').images.slice(0, 128 * 784)) };

function argmax(t: Tensor): number[] {
  const [n, k] = t.shape;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (t.data[i * k + c] > t.data[i * k + best]) best = c;
    return best;
  });
}

const dense = argmax(runReference(g, feeds).logits);
const evaluated: Graph[] = [];
async function agreement(pruned: Graph): Promise<number> {
  evaluated.push(pruned);
  const p = argmax(runReference(pruned, feeds).logits);
  return p.filter((c, i) => c === dense[i]).length / p.length;
}

const densities = [1, 0.5, 0.1, 0.01];

function checkShape(r: SensitivityResult, layers: string[]): void {
  assert.deepEqual(r.layers.map((l) => l.layer), layers);
  assert.equal(r.baseline, 1);
  for (const l of r.layers) {
    assert.equal(l.accuracy.length, densities.length);
    assert.equal(l.accuracy[0], 1, `${l.layer} at density 1`);
    assert.ok(l.accuracy[3] < 1, `${l.layer} at density 0.01 still agrees fully`);
    assert.ok(l.accuracy[3] <= l.accuracy[1], `${l.layer}: ${l.accuracy}`);
  }
}

describe('sensitivity', () => {
  it('unstructured: every Gemm layer, accuracy 1 at density 1 and lower when sparse', async () => {
    evaluated.length = 0;
    const r = await sensitivity(g, { densities, evaluate: agreement, mode: 'unstructured' });
    checkShape(r, ['fc1', 'fc2', 'fc3']);
    assert.deepEqual(r.layers.map((l) => l.weights), [235200, 30000, 1000]);
    // baseline + 3 layers × 3 densities below 1; each pruned graph zeroes the right count in one layer only
    assert.equal(evaluated.length, 1 + 9);
    const fc2 = evaluated[1 + 3 + 1].initializers.get('fc2.weight') as Tensor;
    assert.equal(fc2.data.filter((v) => v !== 0).length, 3000);
    assert.equal(evaluated[1 + 3 + 1].initializers.get('fc1.weight'), g.initializers.get('fc1.weight'));
  });

  it('filters: the thinnable layers (not the last), with physically smaller graphs', async () => {
    evaluated.length = 0;
    const r = await sensitivity(g, { densities, evaluate: agreement, mode: 'filters' });
    checkShape(r, ['fc1', 'fc2']);
    const fc1At10 = evaluated[2];
    assert.deepEqual(fc1At10.initializers.get('fc1.weight')?.shape, [30, 784]);
    assert.equal(paramCount(g) - paramCount(fc1At10), 270 * 785 + 100 * 270);
  });

  it('CSV: a header and one row per (layer, density)', async () => {
    const r = await sensitivity(g, { layers: ['fc3', 'fc1.weight'], densities: [1, 0.25], evaluate: agreement, mode: 'unstructured' });
    const lines = sensitivityToCsv(r).trimEnd().split('\n');
    assert.equal(lines[0], 'layer,op,weights,coupled,density,accuracy');
    assert.equal(lines.length, 1 + 2 * 2);
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 5).join(',')), [
      'fc3,Gemm,1000,,1', 'fc3,Gemm,1000,,0.25', 'fc1,Gemm,235200,,1', 'fc1,Gemm,235200,,0.25',
    ]);
    assert.equal(lines[1].split(',')[5], '1');
    assert.equal(Number(lines[4].split(',')[5]), r.layers[1].accuracy[1]);
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });

  it('chart: one line per layer over density (Vega-Lite, SVG)', async () => {
    const r = await sensitivity(g, { layers: ['fc2', 'fc3'], densities: [1, 0.2], evaluate: agreement, mode: 'unstructured' });
    const svg = await sensitivityChart(r);
    assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
    assert.equal((svg.match(/class="mark-line role-mark/g) ?? []).length, 2);
    assert.equal((svg.match(/class="mark-group role-axis"/g) ?? []).length, 4, 'x and y axes (grid and labels)');
    assert.ok(svg.includes('layer: fc2') && svg.includes('layer: fc3'));
    assert.ok(svg.includes('fraction of weights kept'));
  });

  it('bad input: densities, mode, layer names, a blocked layer, a broken evaluate', async () => {
    const bad = (o: Partial<Parameters<typeof sensitivity>[1]>, re: RegExp) =>
      assert.rejects(sensitivity(g, { densities: [0.5], evaluate: agreement, mode: 'unstructured', ...o }), (e: Error) => {
        assert.ok(e instanceof NnzipError, `want NnzipError, got ${e}`);
        assert.match(e.message, re);
        return true;
      });
    await bad({ densities: [] }, /densities is empty/);
    await bad({ densities: [1, 0] }, /density 0 is outside \(0, 1\]/);
    await bad({ densities: [1.5] }, /density 1.5 is outside/);
    await bad({ mode: 'channels' as 'filters' }, /mode "channels" is unknown/);
    await bad({ layers: ['fc9'] }, /layer "fc9" does not exist; layers: fc1, fc2, fc3/);
    await bad({ layers: ['fc3'], mode: 'filters' }, /layer "fc3" cannot be thinned: .*graph output "logits"/);
    await bad({ evaluate: async () => Number.NaN }, /evaluate returned NaN for the unpruned graph/);
  });

  it('leaves the input graph unchanged', async () => {
    const before = (g.initializers.get('fc1.weight') as Tensor).data.slice();
    await sensitivity(g, { layers: ['fc1'], densities: [0.1], evaluate: agreement, mode: 'filters' });
    assert.deepEqual((g.initializers.get('fc1.weight') as Tensor).data, before);
  });
});
