// WebAssembly opcodes by their spec mnemonic (core spec §5.4 "Instructions",
// SIMD proposal (merged in 2.0) and relaxed-SIMD proposal binary encodings).
// Only the instructions the kernels use, or are likely to use, are listed; add
// more here as needed: the emitter refuses unknown mnemonics.

/** Value types (spec §5.3.1 "Number Types", §5.3.2 "Vector Types"). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Block type "empty" (spec §5.4.1: blocktype ::= 0x40 | valtype | typeidx). */
export const BLOCK_EMPTY = 0x40;

/** Single-byte instructions with no immediates (numeric, parametric, control). */
export const PLAIN: Record<string, number> = {
  unreachable: 0x00, nop: 0x01, return: 0x0f, drop: 0x1a, select: 0x1b,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a, 'i32.gt_u': 0x4b, 'i32.le_s': 0x4c, 'i32.le_u': 0x4d, 'i32.ge_s': 0x4e, 'i32.ge_u': 0x4f,
  'f32.eq': 0x5b, 'f32.ne': 0x5c, 'f32.lt': 0x5d, 'f32.gt': 0x5e, 'f32.le': 0x5f, 'f32.ge': 0x60,
  'i32.clz': 0x67, 'i32.ctz': 0x68, 'i32.popcnt': 0x69,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_s': 0x6d, 'i32.div_u': 0x6e,
  'i32.rem_s': 0x6f, 'i32.rem_u': 0x70, 'i32.and': 0x71, 'i32.or': 0x72, 'i32.xor': 0x73,
  'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76, 'i32.rotl': 0x77, 'i32.rotr': 0x78,
  'f32.abs': 0x8b, 'f32.neg': 0x8c, 'f32.ceil': 0x8d, 'f32.floor': 0x8e, 'f32.trunc': 0x8f,
  'f32.nearest': 0x90, 'f32.sqrt': 0x91, 'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94,
  'f32.div': 0x95, 'f32.min': 0x96, 'f32.max': 0x97, 'f32.copysign': 0x98,
  'i32.trunc_f32_s': 0xa8, 'i32.trunc_f32_u': 0xa9,
  'f32.convert_i32_s': 0xb2, 'f32.convert_i32_u': 0xb3, 'f32.convert_i64_s': 0xb4,
  'i32.reinterpret_f32': 0xbc, 'f32.reinterpret_i32': 0xbe,
  'i32.extend8_s': 0xc0, 'i32.extend16_s': 0xc1,
  'i64.eqz': 0x50, 'i64.popcnt': 0x7b, 'i64.add': 0x7c, 'i64.sub': 0x7d,
  'i64.and': 0x83, 'i64.or': 0x84, 'i64.xor': 0x85, 'i64.shl': 0x86, 'i64.shr_u': 0x88,
  'i32.wrap_i64': 0xa7, 'i64.extend_i32_s': 0xac, 'i64.extend_i32_u': 0xad,
};

/** Memory instructions: opcode and natural alignment (log2 bytes) for the memarg. */
export const MEMORY: Record<string, { prefix?: number; code: number; align: number }> = {
  'i32.load': { code: 0x28, align: 2 },
  'i64.load': { code: 0x29, align: 3 },
  'f32.load': { code: 0x2a, align: 2 },
  'i32.load8_s': { code: 0x2c, align: 0 },
  'i32.load8_u': { code: 0x2d, align: 0 },
  'i32.load16_s': { code: 0x2e, align: 1 },
  'i32.load16_u': { code: 0x2f, align: 1 },
  'i32.store': { code: 0x36, align: 2 },
  'i64.store': { code: 0x37, align: 3 },
  'f32.store': { code: 0x38, align: 2 },
  'i32.store8': { code: 0x3a, align: 0 },
  'i32.store16': { code: 0x3b, align: 1 },
  'v128.load': { prefix: 0xfd, code: 0x00, align: 4 },
  'v128.load8x8_s': { prefix: 0xfd, code: 0x01, align: 3 },
  'v128.load8x8_u': { prefix: 0xfd, code: 0x02, align: 3 },
  'v128.load16x4_s': { prefix: 0xfd, code: 0x03, align: 3 },
  'v128.load16x4_u': { prefix: 0xfd, code: 0x04, align: 3 },
  'v128.load8_splat': { prefix: 0xfd, code: 0x07, align: 0 },
  'v128.load16_splat': { prefix: 0xfd, code: 0x08, align: 1 },
  'v128.load32_splat': { prefix: 0xfd, code: 0x09, align: 2 },
  'v128.load64_splat': { prefix: 0xfd, code: 0x0a, align: 3 },
  'v128.store': { prefix: 0xfd, code: 0x0b, align: 4 },
  'v128.load32_zero': { prefix: 0xfd, code: 0x5c, align: 2 },
  'v128.load64_zero': { prefix: 0xfd, code: 0x5d, align: 3 },
};

/** Memory lane instructions: memarg then a lane index (SIMD: v128.loadN_lane / storeN_lane). */
export const MEMORY_LANE: Record<string, { code: number; align: number }> = {
  'v128.load8_lane': { code: 0x54, align: 0 },
  'v128.load16_lane': { code: 0x55, align: 1 },
  'v128.load32_lane': { code: 0x56, align: 2 },
  'v128.load64_lane': { code: 0x57, align: 3 },
  'v128.store8_lane': { code: 0x58, align: 0 },
  'v128.store16_lane': { code: 0x59, align: 1 },
  'v128.store32_lane': { code: 0x5a, align: 2 },
  'v128.store64_lane': { code: 0x5b, align: 3 },
};

/** Lane instructions: 0xfd code then a lane index byte. */
export const LANE: Record<string, { code: number; lanes: number }> = {
  'i8x16.extract_lane_s': { code: 0x15, lanes: 16 },
  'i8x16.extract_lane_u': { code: 0x16, lanes: 16 },
  'i8x16.replace_lane': { code: 0x17, lanes: 16 },
  'i16x8.extract_lane_s': { code: 0x18, lanes: 8 },
  'i16x8.extract_lane_u': { code: 0x19, lanes: 8 },
  'i16x8.replace_lane': { code: 0x1a, lanes: 8 },
  'i32x4.extract_lane': { code: 0x1b, lanes: 4 },
  'i32x4.replace_lane': { code: 0x1c, lanes: 4 },
  'f32x4.extract_lane': { code: 0x1f, lanes: 4 },
  'f32x4.replace_lane': { code: 0x20, lanes: 4 },
};

/** Vector instructions without immediates: 0xfd prefix then the code as u32 LEB128. */
export const SIMD: Record<string, number> = {
  'i8x16.swizzle': 0x0e,
  'i8x16.splat': 0x0f, 'i16x8.splat': 0x10, 'i32x4.splat': 0x11, 'i64x2.splat': 0x12, 'f32x4.splat': 0x13,
  'i8x16.eq': 0x23, 'i32x4.eq': 0x37, 'i32x4.gt_s': 0x3b,
  'f32x4.eq': 0x41, 'f32x4.ne': 0x42, 'f32x4.lt': 0x43, 'f32x4.gt': 0x44, 'f32x4.le': 0x45, 'f32x4.ge': 0x46,
  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50, 'v128.xor': 0x51,
  'v128.bitselect': 0x52, 'v128.any_true': 0x53,
  'i8x16.abs': 0x60, 'i8x16.neg': 0x61, 'i8x16.popcnt': 0x62, 'i8x16.all_true': 0x63, 'i8x16.bitmask': 0x64,
  'i8x16.narrow_i16x8_s': 0x65, 'i8x16.narrow_i16x8_u': 0x66,
  'i8x16.shl': 0x6b, 'i8x16.shr_s': 0x6c, 'i8x16.shr_u': 0x6d, 'i8x16.add': 0x6e, 'i8x16.sub': 0x71,
  'i8x16.min_s': 0x76, 'i8x16.min_u': 0x77, 'i8x16.max_s': 0x78, 'i8x16.max_u': 0x79,
  'i16x8.extadd_pairwise_i8x16_s': 0x7c, 'i16x8.extadd_pairwise_i8x16_u': 0x7d,
  'i32x4.extadd_pairwise_i16x8_s': 0x7e, 'i32x4.extadd_pairwise_i16x8_u': 0x7f,
  'i16x8.narrow_i32x4_s': 0x85, 'i16x8.narrow_i32x4_u': 0x86,
  'i16x8.extend_low_i8x16_s': 0x87, 'i16x8.extend_high_i8x16_s': 0x88,
  'i16x8.extend_low_i8x16_u': 0x89, 'i16x8.extend_high_i8x16_u': 0x8a,
  'i16x8.neg': 0x81, 'i16x8.shl': 0x8b, 'i16x8.shr_s': 0x8c, 'i16x8.add': 0x8e, 'i16x8.sub': 0x91, 'i16x8.mul': 0x95,
  'i16x8.extmul_low_i8x16_s': 0x9c, 'i16x8.extmul_high_i8x16_s': 0x9d,
  'i32x4.extend_low_i16x8_s': 0xa7, 'i32x4.extend_high_i16x8_s': 0xa8, 'i32x4.extend_low_i16x8_u': 0xa9, 'i32x4.extend_high_i16x8_u': 0xaa,
  'i32x4.neg': 0xa1, 'i32x4.bitmask': 0xa4, 'i32x4.shl': 0xab, 'i32x4.shr_s': 0xac, 'i32x4.shr_u': 0xad,
  'i32x4.add': 0xae, 'i32x4.sub': 0xb1, 'i32x4.mul': 0xb5,
  'i32x4.min_s': 0xb6, 'i32x4.max_s': 0xb8, 'i32x4.dot_i16x8_s': 0xba,
  'i32x4.extmul_low_i16x8_s': 0xbc, 'i32x4.extmul_high_i16x8_s': 0xbd,
  'i64x2.shr_s': 0xcc, 'i64x2.shr_u': 0xcd, 'i64x2.add': 0xce, 'i64x2.extmul_low_i32x4_s': 0xdc, 'i64x2.extmul_high_i32x4_s': 0xdd,
  'f32x4.ceil': 0x67, 'f32x4.floor': 0x68, 'f32x4.trunc': 0x69, 'f32x4.nearest': 0x6a,
  'f32x4.abs': 0xe0, 'f32x4.neg': 0xe1, 'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4, 'f32x4.sub': 0xe5, 'f32x4.mul': 0xe6, 'f32x4.div': 0xe7,
  'f32x4.min': 0xe8, 'f32x4.max': 0xe9, 'f32x4.pmin': 0xea, 'f32x4.pmax': 0xeb,
  'i32x4.trunc_sat_f32x4_s': 0xf8, 'f32x4.convert_i32x4_s': 0xfa,
  // relaxed SIMD proposal (phase 4; behind --experimental-wasm-relaxed-simd in Node 20)
  'f32x4.relaxed_madd': 0x105, 'f32x4.relaxed_nmadd': 0x106,
  'f32x4.relaxed_min': 0x10d, 'f32x4.relaxed_max': 0x10e,
  'i16x8.relaxed_dot_i8x16_i7x16_s': 0x112, 'i32x4.relaxed_dot_i8x16_i7x16_add_s': 0x113,
};

/** Control instructions with immediates (block/loop/if take a block type, br/br_if a label depth). */
export const CONTROL = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d, call: 0x10,
} as const;

/** Variable and constant instructions. */
export const VARIABLE = {
  'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22, 'global.get': 0x23, 'global.set': 0x24,
  'i32.const': 0x41, 'i64.const': 0x42, 'f32.const': 0x43, 'v128.const': 0x0c /* after 0xfd */, 'i8x16.shuffle': 0x0d /* after 0xfd */,
} as const;

/** Bulk memory (0xfc prefix): memory.copy / memory.fill on memory 0. */
export const BULK = { 'memory.copy': 10, 'memory.fill': 11 } as const;

/** Module section ids (spec §5.5.2 "Sections"), in the order they must appear. */
export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, element: 9, code: 10, data: 11, datacount: 12,
} as const;
