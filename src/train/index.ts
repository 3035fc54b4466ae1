// nnzip's training engine: the public API in one place.
//   const model = modelFromGraph(graph);            // or modelFromGraph(buildArchitecture('lenet5'))
//   train(model, { train, test }, { epochs: 10, optimizer: { kind: 'adam', lr: 1e-3 } });
//   const trained = modelToGraph(model);            // same structure, new weights
// Compression passes fine-tune through the hooks (hooks.ts): model.setMask,
// setWeightTransform, setGradTransform, addLossTerm.
export { Param, Var } from './autograd.js';
export type { Backend } from './backend.js';
export { tsBackend } from './backend_ts.js';
export { defaultBackend, setDefaultBackend } from './default_backend.js';
export { wasmBackend } from './backend_wasm.js';
export { ARCHITECTURES, buildArchitecture, lenet300, lenet5, vggs, type ArchOptions } from './arch/index.js';
export { modelFromGraph } from './from_graph.js';
export { modelToGraph, type ToGraphOptions } from './to_graph.js';
export { Model, type ModelOptions, type Snapshot } from './model.js';
export { train, type EpochStats, type Progress, type TrainData, type TrainOptions, type TrainResult } from './loop.js';
export { trainStep, type StepResult } from './step.js';
export { Adam, makeOptimizer, Sgd, type AdamOptions, type Optimizer, type OptimizerSpec, type SgdOptions } from './optim.js';
export { makeSchedule, type Schedule, type ScheduleSpec } from './schedule.js';
export type { GradTransform, WeightTransform } from './autograd.js';
export { AdmmTerm, WeightSharing, type LossTerm } from './hooks.js';
export { trainableOps } from './ops/index.js';
export type { AugmentOptions } from './augment.js';
