// Concat in C: each input not already written in place by its producer (same
// buffer as the output) is copied into its slice of every outer block.
import type { ConcatStep } from '../../../plan_types.js';
import { layer, type CEmitter } from '../layer.js';

export const emitConcat: CEmitter<ConcatStep> = (s, ctx) => {
  const out = ctx.plan.values.get(s.outputs[0])!;
  const copies = s.parts.filter((p) => {
    const v = ctx.plan.values.get(p.value)!;
    return v.const !== undefined || v.buffer !== out.buffer;
  });
  const eb = s.elemBytes;
  const params = [...copies.map((_, i) => `const uint8_t *x${i}`), 'uint8_t *y'];
  const code = [`static NNZ_NOINLINE void ${ctx.id}(${params.join(', ')}) {`, '  int o;'];
  if (copies.length === 0) code.push('  (void)o;', '  (void)y;');
  else code.push(`  for (o = 0; o < ${s.outer}; o++) {`);
  copies.forEach((p, i) => code.push(`    memcpy(y + (o * ${s.outBlock} + ${p.at}) * ${eb}, x${i} + o * ${p.block * eb}, ${p.block * eb});`));
  if (copies.length) code.push('  }');
  code.push('}');
  return layer({
    code, args: [...copies.map((p) => p.value), s.outputs[0]], includes: ['string.h'],
    kernel: `concat (${copies.length} of ${s.parts.length} inputs copied, the others written in place)`,
  });
};
