// What a peer is: a runtime that runs a model (nnzip itself, onnxruntime-node,
// onnxruntime-web, TF.js), taking nnzip Tensors in (ONNX layout, NCHW) and giving
// nnzip Tensors back. The benchmarks time a peer's run as a Contender (harness.ts).
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';

export type Feeds = Record<string, Tensor>;

export interface PeerOptions {
  /** Threads asked for; the peer reports what it really got in `threads`. */
  threads: number;
  /** nnzip: the largest batch to plan for up front (default 1; a bigger one re-plans at its first run). */
  batch?: number;
  /**
   * onnxruntime: whether its pool threads busy-wait after a run (its default, true). Off, they
   * cannot steal a core from the next contender, at some cost in hand-off latency.
   */
  spinning?: boolean;
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

/** What the ONNX peers load: a file path, ONNX bytes, or an nnzip Graph (exported to ONNX, dense). */
export type OnnxSource = string | Uint8Array | Graph;

/** The source as onnxruntime takes it (a path or bytes), and how to name it in errors. */
export function onnxInput(source: OnnxSource): { model: string | Uint8Array; where: string } {
  if (typeof source === 'string') return { model: source, where: source };
  if (source instanceof Uint8Array) return { model: source, where: 'ONNX bytes' };
  return { model: exportOnnx(source), where: `graph "${source.name}"` };
}

export function checkThreads(peer: string, threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new NnzipError(`${peer} peer: threads=${threads}; give an integer >= 1`);
  }
}
