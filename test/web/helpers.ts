// Helpers of the Chromium tests (chromium.test.ts): Node's outputs to compare the
// browser's with, a digit as pointer strokes, small slices of MNIST.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dataset } from '../../src/data/datasets.js';

import { ROOT } from '../../web/build.js';

export { ROOT };

export const MODELS = join(ROOT, 'fixtures/models');

/** The first `count` images of a dataset, as plain numbers (to pass into a page). */
export function firstImages(ds: Dataset, count: number): number[] {
  return Array.from(ds.images.subarray(0, count * 784));
}

const nodeRuns = new Map<string, Record<string, number[]>>();

/**
 * The bit patterns of the outputs a one-thread Node session gives for the first
 * `count` MNIST test images, per model file. Runs in a child Node with the same
 * WebAssembly features as the browser (relaxed SIMD fuses multiply-adds, which
 * changes the last bits; Node 20 has it behind a flag).
 */
export function nodeLogitBits(files: string[], count: number, relaxedSimd: boolean): Record<string, number[]> {
  const key = JSON.stringify([files, count, relaxedSimd]);
  const hit = nodeRuns.get(key);
  if (hit) return hit;
  const index = pathToFileURL(join(ROOT, 'dist/src/index.js')).href;
  const script = `
    const nn = await import(${JSON.stringify(index)});
    const { readFileSync } = await import('node:fs');
    const ds = nn.loadDataset('mnist', 'test');
    const out = {};
    for (const file of ${JSON.stringify(files)}) {
      const s = await nn.Session.create(new Uint8Array(readFileSync(file)), { batch: ${count} });
      const y = s.run({ [s.inputNames[0]]: new nn.Tensor('float32', [${count}, 1, 28, 28], ds.images.slice(0, ${count * 784})) });
      out[file] = Array.from(new Uint32Array(y[s.outputNames[0]].data.buffer));
    }
    process.stdout.write(JSON.stringify(out));`;
  const flags = relaxedSimd ? ['--experimental-wasm-relaxed-simd'] : [];
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`node reference run failed: ${r.stderr}`);
  nodeRuns.set(key, JSON.parse(r.stdout) as Record<string, number[]>);
  return nodeRuns.get(key)!;
}

/** The ink (≥ 0.5) of a 28×28 image thinned to 1-pixel lines (Zhang–Suen), as 0/1 per pixel. */
export function skeleton(image: ArrayLike<number>): Uint8Array {
  const W = 28, b = new Uint8Array(W * W);
  for (let i = 0; i < W * W; i++) b[i] = image[i] >= 0.5 ? 1 : 0;
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= W || y >= W ? 0 : b[y * W + x]);
  for (let changed = true; changed;) {
    changed = false;
    for (const pass of [0, 1]) {
      const del: number[] = [];
      for (let y = 0; y < W; y++) {
        for (let x = 0; x < W; x++) {
          if (!b[y * W + x]) continue;
          // neighbours clockwise from north
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const count = p.reduce((a, v) => a + v, 0);
          const rises = p.filter((v, k) => !v && p[(k + 1) % 8]).length;
          if (count < 2 || count > 6 || rises !== 1) continue;
          if (pass === 0 ? p[0] * p[2] * p[4] || p[2] * p[4] * p[6] : p[0] * p[2] * p[6] || p[0] * p[4] * p[6]) continue;
          del.push(y * W + x);
        }
      }
      for (const i of del) b[i] = 0;
      changed ||= del.length > 0;
    }
  }
  return b;
}

/**
 * A 28×28 image as pen strokes, as a person traces a digit: polylines along its
 * skeleton (each 8-neighbour link once), in CSS pixels of a square canvas of `size`.
 */
export function digitStrokes(image: ArrayLike<number>, size: number): [number, number][][] {
  const W = 28, b = skeleton(image), cell = size / W;
  const near = (i: number): number[] => {
    const out: number[] = [];
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const x = (i % W) + dx, y = Math.floor(i / W) + dy;
        if ((dx || dy) && x >= 0 && y >= 0 && x < W && y < W && b[y * W + x]) out.push(y * W + x);
      }
    }
    return out;
  };
  const used = new Set<number>();
  const link = (i: number, j: number): number => Math.min(i, j) * W * W + Math.max(i, j);
  const free = (i: number): number[] => near(i).filter((j) => !used.has(link(i, j)));
  const pixels = [...b.keys()].filter((i) => b[i]);
  const lines: number[][] = [];
  // line ends first, so strokes start where a pen would
  for (const start of [...pixels.filter((i) => near(i).length === 1), ...pixels]) {
    if (near(start).length === 0) lines.push([start]);
    while (free(start).length > 0) {
      const line = [start];
      for (let at = start, next = free(at); next.length > 0; next = free(at)) {
        used.add(link(at, next[0]));
        at = next[0];
        line.push(at);
      }
      lines.push(line);
    }
  }
  // a pen goes straight through the points in the middle of a straight run: keep the corners only
  const xy = (i: number): [number, number] => [i % W, Math.floor(i / W)];
  const corners = (l: number[]): number[] => l.filter((p, k) => {
    if (k === 0 || k === l.length - 1) return true;
    const [a, b, c] = [xy(l[k - 1]), xy(p), xy(l[k + 1])];
    return b[0] - a[0] !== c[0] - b[0] || b[1] - a[1] !== c[1] - b[1];
  });
  return lines.map((l) => corners(l).map((i): [number, number] => [(xy(i)[0] + 0.5) * cell, (xy(i)[1] + 0.5) * cell]));
}
