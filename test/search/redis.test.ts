// The BullMQ queue on a real redis-server (started here on a free loopback port,
// stopped after): two workers, one killed by its PID mid-job; the search completes
// with every candidate evaluated once, and its front is the single-process front.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'node:test';
import { exportOnnx } from '../../src/onnx/export.js';
import { assertOneLineError, nnzip, ROOT, tempDir } from '../cli/helpers.js';
import { tinyMnist, TINY_FLAGS } from './tiny.js';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = !hasRedis && !process.env.CI ? 'redis-server is not installed (Debian: apt-get install redis-server); CI installs it' : false;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  lines: string[];
  exit: Promise<number>;
  /** Resolves with the first line matching. */
  waitFor(re: RegExp): Promise<string>;
}

function start(cmd: string, args: string[]): Running {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: [RegExp, (l: string) => void][] = [];
  const onData = (d: Buffer) => {
    for (const l of d.toString().split('\n').filter(Boolean)) {
      lines.push(l);
      for (const w of waiters.filter(([re]) => re.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w[1](l);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : 0))));
  return {
    child, lines, exit,
    waitFor: (re) => {
      const hit = lines.find((l) => re.test(l));
      return hit ? Promise.resolve(hit) : new Promise((r) => waiters.push([re, r]));
    },
  };
}

const cli = (args: string[]) => start(process.execPath, [join(ROOT, 'bin/nnzip.js'), ...args]);
const withoutSeconds = (front: { front: Record<string, unknown>[] }) => front.front.map(({ seconds: _, ...e }) => e);

test('search on BullMQ: two workers, one killed mid-job; nothing lost or run twice, the same front as one process', { skip, timeout: 600_000 }, async () => {
  const dir = tempDir();
  const model = join(dir, 'tiny.onnx');
  writeFileSync(model, exportOnnx(tinyMnist()));
  const args = ['search', model, ...TINY_FLAGS, '--target', 'size=3KB', '--max-loss', '50', '--budget', '6', '--generation', '3'];
  const single = cli([...args, '-o', join(dir, 'one')]);
  assert.equal(await single.exit, 0, single.lines.join('\n'));

  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const workers: Running[] = [];
  try {
    await redis.waitFor(/Ready to accept connections/);
    workers.push(cli(['worker', '--redis', url, '--lock-seconds', '1']), cli(['worker', '--redis', url, '--lock-seconds', '1']));
    await Promise.all(workers.map((w) => w.waitFor(/^worker \d+ on/)));
    const coordinator = cli([...args, '--redis', url, '-o', join(dir, 'many')]);
    // the first worker to start a job is killed in it, by its PID
    const first = await Promise.race(workers.map((w, i) => w.waitFor(/^job \S+ started/).then((l) => ({ i, job: l.split(' ')[1] }))));
    process.kill(workers[first.i].child.pid!, 'SIGKILL');
    const survivor = workers[1 - first.i];
    assert.equal(await coordinator.exit, 0, coordinator.lines.join('\n'));

    const one = JSON.parse(readFileSync(join(dir, 'one', 'front.json'), 'utf8'));
    const many = JSON.parse(readFileSync(join(dir, 'many', 'front.json'), 'utf8'));
    assert.deepEqual(withoutSeconds(many), withoutSeconds(one));
    assert.equal(readFileSync(join(dir, 'many', 'winner.yaml'), 'utf8'), readFileSync(join(dir, 'one', 'winner.yaml'), 'utf8'));
    const done = workers.flatMap((w) => w.lines.filter((l) => / done$/.test(l)).map((l) => l.split(' ')[1]));
    assert.equal(new Set(done).size, done.length, `a job completed twice: ${done.join(', ')}`);
    // the final runs are jobs too, on the workers, with the same results as in one process
    const finals = JSON.parse(readFileSync(join(dir, 'many', 'state.json'), 'utf8')).final.hashes as string[];
    assert.ok(finals.length >= 1);
    assert.equal(done.length, 6 + finals.length);
    const finalFront = (f: { final: { front: Record<string, unknown>[] } }) => f.final.front.map(({ seconds: _, proxy: __, ...e }) => e);
    assert.deepEqual(finalFront(many), finalFront(one));
    assert.ok(survivor.lines.some((l) => l === `job ${first.job} done`), `the killed job ${first.job} was not re-run`);
    const state = JSON.parse(readFileSync(join(dir, 'many', 'state.json'), 'utf8'));
    assert.equal(Object.keys(state.results).length + Object.keys(state.failed).length, 6);

    // a worker of another nnzip version is refused
    spawnSync('redis-cli', ['-p', String(port), 'SET', 'nnzip-search:version', '0.0.0-other']);
    const r = nnzip(['worker', '--redis', url]);
    assert.equal(assertOneLineError(r, /runs nnzip 0\.0\.0-other and this worker nnzip \d/), undefined);

    survivor.child.kill('SIGTERM');
    assert.equal(await survivor.exit, 0, survivor.lines.join('\n'));
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    redis.child.kill('SIGTERM');
    await redis.exit;
  }
});
