// One fuzz case: a seed, one to three structure-aware edits (fast-check picks the numbers,
// so a case is replayable from its seed and shrinks), and what nnzip makes of the result.
// Expected outcomes: the file is refused with an NnzipError (exit code 2), or it loads,
// and then `decompress` (.nnz → ONNX) writes a file that loads again, and the model runs.
import fc from 'fast-check';
import { nnzToGraph } from '../../src/format/nnz.js';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { inferShapes, resolveShape } from '../../src/ir/infer.js';
import { Tensor, sizeOf } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { Session } from '../../src/runtime/session.js';
import { mutateNnz } from './nnz_mutate.js';
import { mutateOnnx } from './onnx_mutate.js';
import type { Seeds } from './seeds.js';
import type { Edit } from './values.js';

export type Format = 'onnx' | 'nnz';

export interface FuzzCase {
  seed: number;
  edits: Edit[];
  /** .nnz only: damage left behind the CRCs (a flipped byte or a cut). */
  damage: { at: number; cut: boolean } | null;
}

/**
 * ok: loads (and for .nnz: decompresses, the ONNX loads again) and runs;
 * rejected: refused with one NnzipError line; late: loads but run() refuses it;
 * refused-export: decodes but decompress refuses it; unloadable: decompress wrote
 * an ONNX that does not load; unexpected: any other exception.
 */
export type OutcomeKind = 'ok' | 'rejected' | 'late' | 'refused-export' | 'unloadable' | 'unexpected';
export const FAILURES: readonly OutcomeKind[] = ['unloadable', 'unexpected'];

export interface Outcome {
  kind: OutcomeKind;
  /** The error's type and first line. */
  error?: string;
  stack?: string;
  /** Size of the mutated file. */
  bytes: number;
}

const edit = fc.record({ site: fc.nat(), op: fc.nat(), a: fc.nat(), b: fc.nat() });

export function caseArbitrary(format: Format, seeds: Seeds): fc.Arbitrary<FuzzCase> {
  const count = format === 'onnx' ? seeds.onnx.length : seeds.nnz.length;
  return fc.record({
    seed: fc.nat({ max: count - 1 }),
    edits: fc.array(edit, { minLength: 1, maxLength: 3 }),
    // one .nnz case in 20 is also damaged behind the CRCs (the CRC checks' own test)
    damage: format === 'nnz' ? fc.oneof({ arbitrary: fc.constant(null), weight: 19 }, { arbitrary: fc.record({ at: fc.nat(), cut: fc.boolean() }), weight: 1 }) : fc.constant(null),
  });
}

/** Cases are drawn in chunks, each a fast-check sample with its own seed (its runs biased as fc.assert's are). */
const CHUNK = 1000;
let chunk: { key: string; cases: FuzzCase[] } | undefined;

/** Case `index` of the run with seed `runSeed`: the same numbers on every machine. */
export function nthCase(format: Format, seeds: Seeds, runSeed: number, index: number): FuzzCase {
  const c = Math.floor(index / CHUNK);
  const key = `${format}:${runSeed}:${c}:${seeds.onnx.length}:${seeds.nnz.length}`;
  if (chunk?.key !== key) {
    chunk = { key, cases: fc.sample(caseArbitrary(format, seeds), { seed: (Math.imul(runSeed, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b)) | 0, numRuns: CHUNK }) };
  }
  return chunk.cases[index % CHUNK];
}

export function caseBytes(format: Format, seeds: Seeds, c: FuzzCase): Uint8Array {
  return format === 'onnx' ? mutateOnnx(seeds.onnx[c.seed].object, c.edits) : mutateNnz(seeds.nnz[c.seed].model, c.edits, c.damage ?? undefined);
}

class Stage extends Error {
  constructor(readonly kind: OutcomeKind, override readonly cause: unknown) {
    super(kind);
  }
}

/** Runs `fn`; an NnzipError (exit code 2) becomes `expected`, anything else `unexpected`. */
function step<T>(fn: () => T, expected: OutcomeKind): T {
  try {
    return fn();
  } catch (e) {
    throw new Stage(e instanceof NnzipError && e.exitCode === 2 ? expected : 'unexpected', e);
  }
}

/** Elements a run would touch is bounded: a mutated dimension may legitimately ask for gigabytes. */
const RUN_LIMIT = 1 << 22;

async function runs(graph: Graph): Promise<void> {
  const types = step(() => inferShapes(graph), 'late');
  let total = 0;
  for (const t of types.values()) total += sizeOf(t.shape);
  if (total > RUN_LIMIT) return;
  const feeds = Object.fromEntries(graph.inputs.map((v) => [v.name, new Tensor(v.dtype, resolveShape(v))]));
  let session: Session | undefined;
  try {
    session = await Session.create(graph);
    session.run(feeds);
  } catch (e) {
    throw new Stage(e instanceof NnzipError && e.exitCode === 2 ? 'late' : 'unexpected', e);
  } finally {
    await session?.dispose();
  }
}

export async function runCase(format: Format, bytes: Uint8Array): Promise<Outcome> {
  try {
    if (format === 'onnx') {
      await runs(step(() => importOnnx(bytes, { source: 'fuzz.onnx' }), 'rejected'));
    } else {
      const graph = step(() => nnzToGraph(bytes, 'fuzz.nnz').graph, 'rejected');
      const onnx = step(() => exportOnnx(graph), 'refused-export');
      try {
        importOnnx(onnx, { source: 'decompressed.onnx' });
      } catch (e) {
        throw new Stage('unloadable', e);
      }
      await runs(graph);
    }
    return { kind: 'ok', bytes: bytes.length };
  } catch (e) {
    if (!(e instanceof Stage)) throw e;
    const err = e.cause as Error;
    return { kind: e.kind, error: `${err?.constructor?.name ?? typeof err}: ${String(err?.message ?? err).split('\n')[0]}`, stack: err?.stack, bytes: bytes.length };
  }
}
