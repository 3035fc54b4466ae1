// A static file server for the browser pages (the demo, and the pages tests and
// benchmarks load): localhost only, GET and HEAD, folders mounted under URL
// prefixes, and served cross-origin isolated (COOP same-origin, COEP
// require-corp) so pages get SharedArrayBuffer and nnzip runs on Web Workers.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fail, NnzipError } from '../ir/errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.onnx': 'application/octet-stream', '.nnz': 'application/octet-stream', '.bin': 'application/octet-stream',
};

export interface ServeOptions {
  /** Folders served under URL prefixes: { '/': 'dist/browser/demo', '/ort/': '.../onnxruntime-web/dist' }. */
  mounts: Record<string, string>;
  /** 0 picks a free port (default). */
  port?: number;
  /** COOP/COEP headers (default true); false serves a page that is not cross-origin isolated. */
  isolated?: boolean;
}

export interface Server {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** The file a URL path names under the mounts (longest prefix first), or undefined when outside them. */
function resolvePath(mounts: [string, string][], urlPath: string): string | undefined {
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    const rel = normalize(decodeURIComponent(urlPath.slice(prefix.length)));
    if (rel.startsWith('..')) return undefined;
    const file = join(dir, rel);
    return file.startsWith(dir + sep) || file === dir ? file : undefined;
  }
  return undefined;
}

function handler(mounts: [string, string][], isolated: boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file = resolvePath(mounts, path);
    try {
      if (file && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!file || !statSync(file).isFile()) throw new Error('not found');
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const headers: Record<string, string | number> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size, 'cache-control': 'no-store',
    };
    if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  };
}

/** Serves the mounts on 127.0.0.1. */
export async function serveStatic(o: ServeOptions): Promise<Server> {
  const mounts = Object.entries(o.mounts)
    .map(([prefix, dir]): [string, string] => [prefix.endsWith('/') ? prefix : `${prefix}/`, normalize(dir).replace(/[\\/]$/, '')])
    .sort((a, b) => b[0].length - a[0].length);
  for (const [, dir] of mounts) {
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) fail(`serve: ${dir} is not a folder`);
  }
  const server = createServer(handler(mounts, o.isolated ?? true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new NnzipError(`serve: port ${o.port} is in use; pick another with --port`) : e));
    server.listen(o.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
