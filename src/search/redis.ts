// Redis as the search's coordinator store: where it is (a redis:// URL), whether it
// answers (checked before anything waits on it, so an unreachable server is one clear
// line, not a client retrying forever), and the keys the search uses.
import { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { fail } from '../ir/errors.js';

export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** The BullMQ queue every search and worker share (jobs carry their problem's id). */
export const QUEUE_NAME = 'nnzip-search';
export const problemKey = (id: string) => `${QUEUE_NAME}:problem:${id}`;
export const VERSION_KEY = `${QUEUE_NAME}:version`;

/** nnzip's version (package.json): coordinator and workers must run the same. */
export const NNZIP_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function parseRedisUrl(url: string, flag = '--redis'): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail(`${flag} ${url}: not a URL; write redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:') fail(`${flag} ${url}: the URL must start with redis://`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) fail(`${flag} ${url}: the database number "${u.pathname.slice(1)}" must be an integer >= 0`);
  return {
    host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379, db,
    username: u.username || undefined, password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/** Sends PING; fails with one line when nothing answers within `ms`. */
export async function checkRedis(a: RedisAddress, url: string, what: string, ms = 3000): Promise<void> {
  const reply = await new Promise<string>((resolve) => {
    const s = new Socket();
    const done = (r: string) => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(ms, () => done(`no answer within ${ms / 1000} s`));
    s.once('error', (e) => done((e as NodeJS.ErrnoException).code ?? e.message));
    s.once('data', (d) => done(d.toString('latin1')));
    s.connect(a.port, a.host, () => s.write('PING\r\n'));
  });
  if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) return;
  fail(`--redis ${url}: Redis is unreachable (${reply.trim().split('\r\n')[0]}); ${what}`);
}
