// TF.js's backends as the peers use them. The backend is process-wide: the wasm
// one (XNNPACK) fixes its thread count when it starts (setThreadsCount before
// setBackend), and in Node tfjs-backend-wasm 4.x turns multithreading off (tfjs
// issue #3830), so it runs one thread whatever is asked.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { NnzipError } from '../../../src/ir/errors.js';

export type TfBackend = 'wasm' | 'cpu';

let started: Promise<number> | undefined;

async function startWasm(threads: number): Promise<number> {
  setThreadsCount(threads);
  // the .wasm files sit beside the package's Node entry; load them from disk (no network)
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(`${dirname(entry)}/`);
  if (!(await tf.setBackend('wasm'))) throw new NnzipError('tfjs-wasm peer: the TF.js wasm backend failed to start', 1);
  await tf.ready();
  return getThreadsCount();
}

/** Starts the wasm backend once per process (later thread counts are ignored); returns the threads it really runs. */
export function tfjsWasmThreads(threads: number): Promise<number> {
  started ??= startWasm(threads);
  return started;
}

/** The note a table shows when tfjs-wasm runs fewer threads than asked. */
export function tfjsThreadsNote(asked: number, threads: number): string | undefined {
  return threads !== asked ? `tfjs-wasm: asked for ${asked} threads, runs ${threads} (tfjs-backend-wasm has no threads in Node, tfjs#3830)` : undefined;
}

/** Makes `name` TF.js's active backend (the wasm one started with 1 thread if it was not yet). */
export async function useTfBackend(name: TfBackend): Promise<void> {
  if (name === 'wasm') await tfjsWasmThreads(1);
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new NnzipError(`TF.js peer: the TF.js ${name} backend failed to start`, 1);
}
