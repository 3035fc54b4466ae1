// Reads a model file the user names: .onnx or .nnz.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { nnzToGraph } from '../format/nnz.js';
import { exportOnnx } from '../onnx/export.js';
import { loadOnnxModel, readModelFile } from '../onnx/load.js';

export interface LoadedModel {
  path: string;
  /**
   * The model as one self-contained file: the bytes read, or, when its tensors live in
   * external-data files, an ONNX export of the graph (what a search worker on another machine gets).
   */
  portable(): Uint8Array;
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
  const name = basename(path).toLowerCase(), onnx = name.endsWith('.onnx');
  if (!onnx && !name.endsWith('.nnz')) fail(`${path}: unknown model type; nnzip reads .onnx and .nnz files`);
  const bytes = readModelFile(path);
  if (onnx) {
    const { graph, external } = loadOnnxModel(path, bytes);
    return { path, portable: () => (external ? exportOnnx(graph) : bytes), graph, oracle: () => path };
  }
  const { graph, meta, tensorBytes } = nnzToGraph(bytes, path);
  return { path, portable: () => bytes, graph, meta, tensorBytes, oracle: () => exportOnnx(graph) };
}
