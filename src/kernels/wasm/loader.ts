// Compiles and instantiates generated modules against an arena's memory, with a
// cache keyed by the module's variant so each kernel is compiled once per process.
import type { WasmArena } from './arena.js';
import type { MemoryImport } from './emitter.js';
import { WA, type WasmModule } from './wasm_api.js';

/** Largest memory (in 64 KiB pages) a generated module accepts: 4 GiB, the wasm32 limit. */
export const MAX_PAGES = 65536;

const modules = new Map<string, WasmModule>();

/** Compiles `generate()` once per key (the key must name everything that changes the bytes). */
export function compileCached(key: string, generate: () => Uint8Array): WasmModule {
  let m = modules.get(key);
  if (!m) {
    const bytes = generate();
    if (!WA.validate(bytes)) throw new Error(`nnzip: generated wasm module "${key}" does not validate (an emitter bug)`);
    m = new WA.Module(bytes);
    modules.set(key, m);
  }
  return m;
}

/** Instantiates a module whose only import is env.memory. */
export function instantiate<T>(module: WasmModule, arena: WasmArena): T {
  const inst = new WA.Instance(module, { env: { memory: arena.memory } });
  return inst.exports as T;
}

/** The env.memory import every generated module declares (1 page minimum; shared needs a maximum). */
export function memoryImport(shared: boolean): MemoryImport {
  return { module: 'env', name: 'memory', initial: 1, maximum: shared ? MAX_PAGES : undefined, shared };
}
