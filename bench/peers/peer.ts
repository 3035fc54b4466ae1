// What every benchmark contender looks like: nnzip itself and each peer runtime
// take nnzip Tensors in (ONNX layout, NCHW) and give nnzip Tensors back.
import { NnzipError } from '../../src/ir/errors.js';
import type { Tensor } from '../../src/ir/tensor.js';

export type Feeds = Record<string, Tensor>;

export interface PeerOptions {
  /** Threads asked for; the peer reports what it really got in `threads`. */
  threads: number;
}

export interface Peer {
  /** Column name in the tables: 'nnzip', 'ort-node', 'ort-web', 'tfjs-wasm'. */
  readonly name: string;
  /** Threads the peer really runs with (fewer than asked when the platform cannot do more). */
  readonly threads: number;
  /** Why `threads` differs from what was asked, or anything else a reader of the table must know. */
  readonly note?: string;
  run(feeds: Feeds): Promise<Feeds>;
  dispose(): Promise<void>;
}

/** ONNX source for the peers that load ONNX themselves: a file path or the file's bytes. */
export type OnnxSource = string | Uint8Array;

export function checkThreads(peer: string, threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new NnzipError(`${peer} peer: threads=${threads}; give an integer >= 1`);
  }
}
