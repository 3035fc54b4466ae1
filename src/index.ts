// nnzip's Node API: everything in the browser-safe one (src/browser.ts) plus
// files, datasets, sessions on worker threads, training and compression.
export * from './browser.js';
export { loadOnnxFile } from './onnx/load.js';
export { createNodeSession, type NodeSessionOptions } from './runtime/session_node.js';
export { loadDataset, DATASETS, type Dataset, type DatasetName } from './data/datasets.js';
export { compressGraph, type CompressOptions, type CompressResult } from './compress/pipeline.js';
export { parseRecipe, DEEP_COMPRESSION, LOSSLESS, type Recipe } from './compress/recipe.js';
export { intake, type LayerIntake } from './compress/intake.js';
export { buildArchitecture, modelFromGraph, modelToGraph, train, type TrainOptions, type TrainResult } from './train/index.js';
export { withTrainingThreads } from './train/threads_node.js';
export { quantizeModel, type QuantizeRun, type QatSettings } from './compress/quantize/quantize_model.js';
export { quantizeGraph, type QuantizeOptions, type PtqResult } from './compress/quantize/ptq.js';
export type { CalibrationSet, CalibrationMethod } from './compress/quantize/calibrate.js';
