// The runtime ships to browsers: everything reachable from src/runtime/index.ts
// (the Session, the planner, the kernels) must import no Node-only module. The
// Node factory (session_node.ts) is the one door to worker_threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const NODE_ONLY = /^(node:|fs$|path$|os$|url$|worker_threads$|child_process$|crypto$|module$|util$)/;

/** Every module specifier reached from `entry` (relative ones followed), with the file that imports it. */
function reachable(entry: string): Map<string, string> {
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else bare.set(spec, file);
    }
  };
  visit(join(DIST_SRC, entry));
  return bare;
}

for (const entry of ['runtime/index.js', 'browser.js']) {
  test(`${entry} (browser entry) reaches no Node-only module`, () => {
    const bare = reachable(entry);
    const bad = [...bare].filter(([spec]) => NODE_ONLY.test(spec)).map(([spec, file]) => `${spec} (from ${file.slice(DIST_SRC.length + 1)})`);
    assert.deepEqual(bad, []);
  });
}

test('the Node factory is where worker_threads comes in', () => {
  const bare = reachable('runtime/session_node.js');
  assert.ok([...bare.keys()].some((s) => s === 'node:worker_threads'), [...bare.keys()].join(', '));
});
