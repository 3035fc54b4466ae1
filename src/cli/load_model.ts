// Reads a model file the user names: .onnx now, .nnz once the container lands.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { loadOnnxFile } from '../onnx/load.js';

export interface LoadedModel {
  path: string;
  graph: Graph;
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
  fail(`${path}: unknown model type; nnzip reads .onnx files`);
}
