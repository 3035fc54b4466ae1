// The slice of the JS WebAssembly API the kernels use, typed here because the
// project's lib (es2022, no DOM) does not declare `WebAssembly`. Module-local
// types rather than a global declaration, so they cannot clash with others.

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: {
    new (bytes: Uint8Array): WasmModule;
    exports(module: WasmModule): { name: string; kind: string }[];
    customSections(module: WasmModule, name: string): ArrayBuffer[];
  };
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (desc: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

export const WA: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes in one WebAssembly page. */
export const PAGE = 65536;
