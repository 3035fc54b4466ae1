// Reads a model file the user names: .onnx or .nnz.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { nnzToGraph } from '../format/nnz.js';
import { exportOnnx } from '../onnx/export.js';
import { loadOnnxFile } from '../onnx/load.js';

export interface LoadedModel {
  path: string;
  graph: Graph;
  /** Bytes each tensor takes in a .nnz file (absent for dense files). */
  tensorBytes?: Map<string, number>;
  /** What the .nnz file recorded about its making (recipe, accuracy). */
  meta?: Record<string, unknown>;
  /** What onnxruntime loads as the oracle: the file itself for .onnx, an ONNX export otherwise. */
  oracle(): string | Uint8Array;
}

export function loadModel(path: string): LoadedModel {
  if (!existsSync(path)) fail(`${path}: no such file`);
  const name = basename(path).toLowerCase();
  if (name.endsWith('.onnx')) {
    const graph = loadOnnxFile(path);
    return { path, graph, oracle: () => path };
  }
  if (name.endsWith('.nnz')) {
    const { graph, meta, tensorBytes } = nnzToGraph(readFileSync(path), path);
    return { path, graph, meta, tensorBytes, oracle: () => exportOnnx(graph) };
  }
  fail(`${path}: unknown model type; nnzip reads .onnx and .nnz files`);
}
