// The runtime's browser-safe exports: Session (plan once, run fast), the
// reference runtime (the oracle), and the plan types describe() is built from.
// Node callers who want worker threads import createNodeSession from ./session_node.js.
export { Session, type SessionOptions } from './session.js';
export { runReference, type RunReferenceOptions } from './reference.js';
export { planGraph, type PlanOptions } from '../compile/plan.js';
export { describePlan, kernelChoices } from '../compile/describe.js';
export type { KernelsMode, Plan, PlanStep, PlanValue, PlanBuffer, MemoryPlan } from '../compile/plan_types.js';
export type { ThreadPool } from '../kernels/wasm/thread_pool.js';
