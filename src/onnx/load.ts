// Node-only: reads an .onnx file and the external-data files next to it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { importOnnx } from './import.js';

/** Reads external-data files relative to the model's folder, each file once. */
function externalReader(modelPath: string): (location: string) => Uint8Array | undefined {
  const dir = dirname(modelPath);
  const cache = new Map<string, Uint8Array>();
  return (location) => {
    const rel = normalize(location);
    // ONNX requires locations inside the model's folder; refuse anything else
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
      fail(`external data location "${location}" must be a relative path inside the model's folder`);
    }
    const path = join(dir, rel);
    const hit = cache.get(path);
    if (hit) return hit;
    if (!existsSync(path)) return undefined;
    const bytes = readFileSync(path);
    cache.set(path, bytes);
    return bytes;
  };
}

/** The bytes of a model file; a file that cannot be read throws NnzipError naming `path`. */
export function readModelFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    fail(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read the file (${code ?? (e as Error).message})`);
  }
}

/** Loads an ONNX model file (with external data) into a Graph, from `bytes` when already read; bad files throw NnzipError naming `path`. */
export function loadOnnxFile(path: string, bytes = readModelFile(path)): Graph {
  return loadOnnxModel(path, bytes).graph;
}

/** loadOnnxFile, and whether any tensor came from an external-data file (then `bytes` alone are not the model). */
export function loadOnnxModel(path: string, bytes = readModelFile(path)): { graph: Graph; external: boolean } {
  const read = externalReader(path);
  let external = false;
  const graph = importOnnx(bytes, { source: path, readExternal: (location) => { external = true; return read(location); } });
  return { graph, external };
}
