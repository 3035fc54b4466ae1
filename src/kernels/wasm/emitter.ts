// A WebAssembly binary emitter that mirrors the spec (core spec chapter 5,
// "Binary Format"): a module builder that writes the sections in spec order and
// a function-body builder with structured control flow. No dependency; the
// kernel templates (gemm.ts, conv.ts, ...) generate their code with it.
import {
  BLOCK_EMPTY, BULK, CONTROL, LANE, MEMORY, MEMORY_LANE, PLAIN, SECTION, SIMD, VARIABLE, I32, F32, V128,
  type ValType,
} from './opcodes.js';

// ---- §5.2.2 Integers: LEB128 ------------------------------------------------

export function uleb(value: number, out: number[] = []): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`uleb: ${value} is not a u32`);
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export function sleb(value: number, out: number[] = []): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) throw new Error(`sleb: ${value} is not an i32`);
  value |= 0; // i32 wrap: constants above 2^31 are written as their negative i32 twin
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** §5.2.4 Names: length-prefixed UTF-8. */
function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  for (const b of bytes) out.push(b);
}

/** §5.1.3 Vectors: count then elements. */
function vec<T>(items: readonly T[], each: (item: T, out: number[], index: number) => void, out: number[]): void {
  uleb(items.length, out);
  items.forEach((it, i) => each(it, out, i));
}

// ---- Function bodies (§5.5.13 "Code Section") --------------------------------

export class Local {
  constructor(readonly index: number, readonly type: ValType) {}
}

/** A branch target; br/br_if compute the relative depth from the open-label stack. */
export class Label {
  constructor(readonly kind: 'block' | 'loop' | 'if') {}
}

/** An i32 operand: a constant, a local, or code that pushes one value. */
export type I32Expr = number | Local | (() => void);

export class FuncBuilder {
  readonly params: Local[];
  private readonly extra: ValType[] = [];
  private readonly code: number[] = [];
  private readonly labels: Label[] = [];

  constructor(paramTypes: readonly ValType[], readonly results: readonly ValType[]) {
    this.params = paramTypes.map((t, i) => new Local(i, t));
  }

  /** Declares a new local of the given type (zero-initialised, spec §4.4.10). */
  local(type: ValType = I32): Local {
    this.extra.push(type);
    return new Local(this.params.length + this.extra.length - 1, type);
  }

  // §5.4.4 Variable instructions
  get(l: Local): this { return this.raw(VARIABLE['local.get'], ...uleb(l.index)); }
  set(l: Local): this { return this.raw(VARIABLE['local.set'], ...uleb(l.index)); }
  tee(l: Local): this { return this.raw(VARIABLE['local.tee'], ...uleb(l.index)); }

  // §5.4.7 Numeric instructions: constants
  i32(v: number): this { return this.raw(VARIABLE['i32.const'], ...sleb(v)); }
  /** i64.const of a value in the i32 range (its LEB128 is the same). */
  i64(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`emitter: i64 constant ${v} outside the i32 range`);
    return this.raw(VARIABLE['i64.const'], ...sleb(v));
  }
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.raw(VARIABLE['f32.const'], ...b);
  }
  /** v128.const from four f32 lanes. */
  f32x4(a: number, b = a, c = a, d = a): this {
    const bytes = new Uint8Array(new Float32Array([a, b, c, d]).buffer);
    return this.raw(0xfd, ...uleb(VARIABLE['v128.const']), ...bytes);
  }
  /** v128.const from four i32 lanes. */
  i32x4(a: number, b: number, c: number, d: number): this {
    return this.raw(0xfd, ...uleb(VARIABLE['v128.const']), ...new Uint8Array(new Int32Array([a, b, c, d]).buffer));
  }

  /** Pushes an i32 operand. */
  push(e: I32Expr): this {
    if (typeof e === 'number') return this.i32(e);
    if (e instanceof Local) return this.get(e);
    e();
    return this;
  }

  /** Any instruction without immediates, by spec mnemonic (`i32.add`, `f32x4.mul`, ...). */
  op(mnemonic: string): this {
    const plain = PLAIN[mnemonic];
    if (plain !== undefined) return this.raw(plain);
    const simd = SIMD[mnemonic];
    if (simd !== undefined) return this.raw(0xfd, ...uleb(simd));
    throw new Error(`emitter: unknown instruction ${mnemonic}`);
  }

  /** Several plain instructions in a row. */
  ops(...mnemonics: string[]): this {
    for (const m of mnemonics) this.op(m);
    return this;
  }

  // §5.4.6 Memory instructions: memarg = align (log2) then offset, both u32
  mem(mnemonic: string, offset = 0, align?: number): this {
    const m = MEMORY[mnemonic];
    if (!m) throw new Error(`emitter: unknown memory instruction ${mnemonic}`);
    if (m.prefix !== undefined) this.raw(m.prefix, ...uleb(m.code));
    else this.raw(m.code);
    return this.raw(...uleb(align ?? m.align), ...uleb(offset));
  }

  /** v128.loadN_lane / storeN_lane: memarg then lane index. */
  memLane(mnemonic: string, offset: number, lane: number): this {
    const m = MEMORY_LANE[mnemonic];
    if (!m) throw new Error(`emitter: unknown lane memory instruction ${mnemonic}`);
    return this.raw(0xfd, ...uleb(m.code), ...uleb(m.align), ...uleb(offset), lane);
  }

  /** extract_lane / replace_lane with a lane index immediate. */
  lane(mnemonic: string, index: number): this {
    const l = LANE[mnemonic];
    if (!l) throw new Error(`emitter: unknown lane instruction ${mnemonic}`);
    if (index < 0 || index >= l.lanes) throw new Error(`emitter: ${mnemonic} lane ${index} out of range`);
    return this.raw(0xfd, ...uleb(l.code), index);
  }

  /** i8x16.shuffle with 16 byte-lane indices (0..31). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => l < 0 || l > 31)) throw new Error('emitter: i8x16.shuffle needs 16 lanes in 0..31');
    return this.raw(0xfd, ...uleb(VARIABLE['i8x16.shuffle']), ...lanes);
  }

  /** Shuffle of 32-bit lanes (f32x4/i32x4 view): four indices in 0..7. */
  shuffle32(a: number, b: number, c: number, d: number): this {
    const bytes: number[] = [];
    for (const l of [a, b, c, d]) for (let k = 0; k < 4; k++) bytes.push(l * 4 + k);
    return this.shuffle(bytes);
  }

  /** memory.copy (dst, src, n on the stack) and memory.fill (dst, byte, n), memory 0. */
  memoryCopy(): this { return this.raw(0xfc, ...uleb(BULK['memory.copy']), 0, 0); }
  memoryFill(): this { return this.raw(0xfc, ...uleb(BULK['memory.fill']), 0); }

  call(funcIndex: number): this { return this.raw(CONTROL.call, ...uleb(funcIndex)); }

  // §5.4.1 Control instructions, structured: the body closure gets its label
  block(body: (l: Label) => void): this { return this.structured('block', CONTROL.block, body); }
  loop(body: (l: Label) => void): this { return this.structured('loop', CONTROL.loop, body); }
  /** if (condition on the stack) then [else]; with `result`, both arms leave one value of that type. */
  if(then: () => void, otherwise?: () => void, result?: ValType): this {
    const l = new Label('if');
    this.raw(CONTROL.if, result ?? BLOCK_EMPTY);
    this.labels.push(l);
    then();
    if (otherwise) {
      this.raw(CONTROL.else);
      otherwise();
    }
    this.labels.pop();
    return this.raw(CONTROL.end);
  }
  br(l: Label): this { return this.raw(CONTROL.br, ...uleb(this.depth(l))); }
  brIf(l: Label): this { return this.raw(CONTROL.br_if, ...uleb(this.depth(l))); }

  /** for (i = start; i < end; i += step) body — signed compare, no iteration when start >= end. */
  forUp(i: Local, start: I32Expr, end: I32Expr, step: I32Expr, body: (brk: Label) => void): this {
    this.push(start).set(i);
    return this.block((exit) => {
      this.get(i).push(end).op('i32.ge_s').brIf(exit);
      this.loop((top) => {
        body(exit);
        this.get(i).push(step).op('i32.add').tee(i).push(end).op('i32.lt_s').brIf(top);
      });
    });
  }

  /** Pushes the byte address base + 4·index (of an f32 or i32 element). */
  addr(base: Local, index: Local): this {
    return this.get(base).get(index).i32(4).op('i32.mul').op('i32.add');
  }

  /** Pushes the sum of the four f32 lanes of v. */
  hsum(v: Local): this {
    return this.get(v).lane('f32x4.extract_lane', 0).get(v).lane('f32x4.extract_lane', 1).op('f32.add')
      .get(v).lane('f32x4.extract_lane', 2).get(v).lane('f32x4.extract_lane', 3).op('f32.add').op('f32.add');
  }

  /**
   * Clamps the f32x4 on the stack to [lo, hi] lane by lane as pmax / pmin (v < lo ? lo : v, then
   * hi < v ? hi : v: one maxps / minps each, a NaN stays NaN; f32x4.max / min lower to about seven
   * instructions each for their NaN and −0 rules: a fused ReLU cost a third of a 1→32 3×3 conv).
   */
  clampTo(lo: Local, hi: Local): this {
    return this.get(lo).op('f32x4.pmax').get(hi).op('f32x4.pmin');
  }

  /** local += value (i32). */
  addTo(l: Local, value: I32Expr): this {
    return this.get(l).push(value).op('i32.add').set(l);
  }

  raw(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** The function body: locals (run-length grouped) then code then `end`. */
  encode(): number[] {
    if (this.labels.length) throw new Error('emitter: unclosed block');
    const groups: [number, ValType][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body: number[] = [];
    vec(groups, ([n, t], o) => { uleb(n, o); o.push(t); }, body);
    for (const b of this.code) body.push(b);
    body.push(CONTROL.end);
    const out: number[] = [];
    uleb(body.length, out);
    for (const b of body) out.push(b);
    return out;
  }

  private structured(kind: 'block' | 'loop', code: number, body: (l: Label) => void): this {
    const l = new Label(kind);
    this.raw(code, BLOCK_EMPTY);
    this.labels.push(l);
    body(l);
    this.labels.pop();
    return this.raw(CONTROL.end);
  }

  private depth(l: Label): number {
    const i = this.labels.lastIndexOf(l);
    if (i < 0) throw new Error('emitter: branch to a label that is not open');
    return this.labels.length - 1 - i;
  }
}

// ---- Modules (§5.5 "Modules") ---------------------------------------------------

export interface MemoryImport {
  module: string;
  name: string;
  initial: number; // pages of 64 KiB
  maximum?: number; // required when shared
  shared?: boolean;
}

interface FuncEntry { typeIndex: number; exportName?: string; body: FuncBuilder }

export class ModuleBuilder {
  private readonly types: string[] = []; // each func type serialised, for dedup
  private readonly typeBytes: number[][] = [];
  private memory?: MemoryImport;
  private readonly funcs: FuncEntry[] = [];

  importMemory(m: MemoryImport): this {
    if (m.shared && m.maximum === undefined) throw new Error('emitter: a shared memory needs a maximum');
    this.memory = m;
    return this;
  }

  /** Adds a function (exported under exportName if given); returns its function index. */
  func(exportName: string | undefined, params: ValType[], results: ValType[], build: (f: FuncBuilder) => void): number {
    const f = new FuncBuilder(params, results);
    build(f);
    this.funcs.push({ typeIndex: this.typeIndex(params, results), exportName, body: f });
    return this.funcs.length - 1;
  }

  /** The binary module: preamble, sections in spec order, then the "name" custom section (profilers show the functions' names). */
  build(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // magic "\0asm", version 1
    // §5.5.4 type section: functype = 0x60 vec(param) vec(result)
    this.section(SECTION.type, out, (s) => vec(this.typeBytes, (t, o) => o.push(...t), s));
    // §5.5.5 import section: memory import, importdesc 0x02 then limits
    if (this.memory) {
      const m = this.memory;
      this.section(SECTION.import, out, (s) => {
        uleb(1, s);
        name(m.module, s);
        name(m.name, s);
        s.push(0x02);
        // §5.3.7 limits: 0x00 min | 0x01 min max | 0x03 min max (shared, threads proposal)
        if (m.shared) s.push(0x03, ...uleb(m.initial), ...uleb(m.maximum!));
        else if (m.maximum !== undefined) s.push(0x01, ...uleb(m.initial), ...uleb(m.maximum));
        else s.push(0x00, ...uleb(m.initial));
      });
    }
    // §5.5.6 function section: the type index of each function
    this.section(SECTION.function, out, (s) => vec(this.funcs, (f, o) => uleb(f.typeIndex, o), s));
    // §5.5.10 export section: exportdesc 0x00 = func
    const exported = this.funcs.map((f, i) => [f, i] as const).filter(([f]) => f.exportName !== undefined);
    this.section(SECTION.export, out, (s) =>
      vec(exported, ([f, i], o) => { name(f.exportName!, o); o.push(0x00); uleb(i, o); }, s));
    // §5.5.13 code section
    this.section(SECTION.code, out, (s) => vec(this.funcs, (f, o) => { for (const b of f.body.encode()) o.push(b); }, s));
    // §7.4.1 name section: custom section 0 named "name"; subsection 1 = function names, vec(index name)
    this.section(0, out, (s) => {
      name('name', s);
      const names: number[] = [];
      vec(this.funcs, (f, o, i) => { uleb(i, o); name(f.exportName ?? `internal${i}`, o); }, names);
      s.push(1);
      uleb(names.length, s);
      for (const b of names) s.push(b);
    });
    return new Uint8Array(out);
  }

  private typeIndex(params: ValType[], results: ValType[]): number {
    const bytes: number[] = [0x60];
    vec(params, (t, o) => o.push(t), bytes);
    vec(results, (t, o) => o.push(t), bytes);
    const key = bytes.join(',');
    let i = this.types.indexOf(key);
    if (i < 0) {
      i = this.types.length;
      this.types.push(key);
      this.typeBytes.push(bytes);
    }
    return i;
  }

  /** §5.5.2 section = id, u32 size, contents. */
  private section(id: number, out: number[], write: (s: number[]) => void): void {
    const s: number[] = [];
    write(s);
    out.push(id);
    uleb(s.length, out);
    for (const b of s) out.push(b);
  }
}

export { I32, F32, V128 };
