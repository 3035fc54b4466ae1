// nnzip's browser-safe API (no Node modules): load a model from bytes (.onnx or
// .nnz), run it fast with Session (on Web Workers with createWebSession), check
// it with the reference runtime, encode and decode .nnz, export ONNX. Node code
// imports 'nnzip' (src/index.ts), which adds files, datasets, worker threads,
// training and compression. `npm run build:web` bundles this into one file.
export { Session, type SessionOptions } from './runtime/session.js';
export { createWebSession, webThreadsAvailable, type WebSessionOptions } from './runtime/session_web.js';
export { runReference, type RunReferenceOptions } from './runtime/reference.js';
export { Tensor, f32, type DType } from './ir/tensor.js';
export { Graph, type Node, type ValueInfo } from './ir/graph.js';
export { NnzipError } from './ir/errors.js';
export { importOnnx, type ImportOptions } from './onnx/import.js';
export { exportOnnx, type ExportOptions } from './onnx/export.js';
export { graphToNnz, nnzToGraph, isNnz, type NnzEncodeOptions, type NnzDecoded } from './format/nnz.js';
export { printGraph } from './ir/print.js';
export { wasmFeatures, type WasmFeatures } from './kernels/wasm/features.js';
