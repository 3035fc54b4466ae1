// The codebase's shape, checked: imports between src/ folders go one way (the
// pipeline's order, docs/architecture.md), no import cycle between files, and no
// file grows past 500 lines.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Each src/ folder's rank: a file may import from its own folder or a lower rank, never a higher or equal one. */
export const LAYERS: Record<string, number> = {
  ir: 0,
  onnx: 1, data: 1, format: 1,
  kernels: 2,
  compile: 3,
  runtime: 4,
  eval: 5,
  train: 6,
  compress: 7,
  search: 8,
  report: 9,
  cli: 10,
};

/** Files at the top of src/ (the package's entry points) may import any folder. */
const ENTRY_RANK = 100;

const MAX_LINES = 500;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative imports of a source file (static, re-exports and dynamic), as repo-relative .ts paths. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    out.push(normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** The rank of a src/ file, and its folder. */
export function layerOf(file: string): { folder: string; rank: number } | undefined {
  const parts = file.split(/[\\/]/);
  if (parts[0] !== 'src') return undefined;
  if (parts.length === 2) return { folder: parts[1], rank: ENTRY_RANK };
  const rank = LAYERS[parts[1]];
  if (rank === undefined) throw new Error(`src/${parts[1]}/ is not in LAYERS (test/structure.test.ts): give it a rank`);
  return { folder: parts[1], rank };
}

/** Import edges that go against the layer order: "src/a/x.ts → src/b/y.ts (a → b)". */
export function backwardImports(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    if (!a) continue;
    for (const to of targets) {
      const b = layerOf(to);
      if (!b || a.folder === b.folder || (a.rank === ENTRY_RANK && b.rank === ENTRY_RANK)) continue;
      if (b.rank >= a.rank) bad.push(`${from} → ${to} (${a.folder} → ${b.folder})`);
    }
  }
  return bad;
}

/** Import cycles among the files (strongly connected components of more than one file, or a file importing itself). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const comp: string[] = [];
    let w: string;
    do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

function importGraph(dirs: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const d of dirs) {
    for (const abs of tsFiles(join(ROOT, d))) {
      const file = relative(ROOT, abs);
      graph.set(file, importsOf(file, readFileSync(abs, 'utf8')));
    }
  }
  return graph;
}

test('imports between src/ folders follow the pipeline order (ir → onnx, data, format → kernels → … → cli)', () => {
  const bad = backwardImports(importGraph(['src']));
  assert.deepEqual(bad, [], `backward imports:\n${bad.join('\n')}`);
});

test('no import cycle among the files of src/ and bench/', () => {
  const cycles = importCycles(importGraph(['src', 'bench']));
  assert.deepEqual(cycles, [], `cycles:\n${cycles.map((c) => c.join(' ↔ ')).join('\n')}`);
});

test(`no source file over ${MAX_LINES} lines (src/, test/, bench/)`, () => {
  const long = ['src', 'test', 'bench'].flatMap((d) => tsFiles(join(ROOT, d)))
    .map((f) => ({ f: relative(ROOT, f), n: readFileSync(f, 'utf8').split('\n').length }))
    .filter(({ n }) => n > MAX_LINES);
  assert.deepEqual(long.map(({ f, n }) => `${f}: ${n}`), []);
});

test('the checks catch what they are for', () => {
  const g = new Map<string, string[]>([
    ['src/ir/a.ts', ['src/kernels/b.ts']], // backward: ir must not import kernels
    ['src/kernels/b.ts', ['src/kernels/c.ts']],
    ['src/kernels/c.ts', ['src/kernels/b.ts']], // cycle b ↔ c
    ['src/onnx/d.ts', ['src/format/e.ts']], // same rank, other folder: not allowed either
    ['src/format/e.ts', ['src/ir/a.ts']],
    ['src/index.ts', ['src/cli/f.ts']], // entry points may import anything
  ]);
  assert.deepEqual(backwardImports(g), ['src/ir/a.ts → src/kernels/b.ts (ir → kernels)', 'src/onnx/d.ts → src/format/e.ts (onnx → format)']);
  assert.deepEqual(importCycles(g), [['src/kernels/b.ts', 'src/kernels/c.ts']]);
  assert.deepEqual(importsOf('src/a/x.ts', "import { y } from './y.js';\nexport * from '../b/z.js';\nconst m = await import('./w.js');"), ['src/a/y.ts', 'src/b/z.ts', 'src/a/w.ts']);
  assert.throws(() => layerOf('src/newfolder/x.ts'), /not in LAYERS/);
});
