// The static server of the browser pages: cross-origin isolation headers, types,
// nothing outside the mounted folders, GET and HEAD only.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveStatic } from '../../src/cli/serve.js';
import { NnzipError } from '../../src/ir/errors.js';
import { tempDir } from './helpers.js';

test('serveStatic: files under their mounts, isolation headers, 404 outside, 405 for other methods', async () => {
  const top = tempDir(), root = join(top, 'site'), models = tempDir();
  mkdirSync(join(root, 'demo'), { recursive: true });
  writeFileSync(join(root, 'demo', 'index.html'), '<!doctype html>hi');
  writeFileSync(join(root, 'a.js'), 'export {}');
  writeFileSync(join(models, 'm.nnz'), new Uint8Array([1, 2, 3]));
  writeFileSync(join(top, 'secret.txt'), 'next to the served folder');
  const s = await serveStatic({ mounts: { '/': root, '/models/': models } });
  const plain = await serveStatic({ mounts: { '/': root }, isolated: false });
  try {
    const page = await fetch(`${s.url}/demo/`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<!doctype html>hi');
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal((await fetch(`${s.url}/a.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.deepEqual(new Uint8Array(await (await fetch(`${s.url}/models/m.nnz`)).arrayBuffer()), new Uint8Array([1, 2, 3]));
    // sent verbatim (fetch would normalise the dots away)
    const status = (path: string) => new Promise<number>((resolve, reject) => {
      get(s.url, { path }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    });
    for (const path of ['/missing.js', '/../secret.txt', '/%2e%2e/secret.txt', '/models/../../secret.txt', '/models/%2e%2e/%2e%2e/secret.txt', '/models/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      assert.equal(await status(path), 404, path);
    }
    assert.equal((await fetch(`${s.url}/a.js`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${plain.url}/a.js`)).headers.get('cross-origin-opener-policy'), null);
  } finally {
    await s.close();
    await plain.close();
  }
  await assert.rejects(serveStatic({ mounts: { '/': join(root, 'nope') } }), (e: Error) => e instanceof NnzipError && /is not a folder/.test(e.message));
});
