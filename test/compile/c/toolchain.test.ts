import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitsMps2, parseStackUsage } from '../../../src/compile/backends/c/toolchain.js';

test('parseStackUsage: frames by C name, gcc clones folded into their function (largest frame kept)', () => {
  const su = ['m.c:10:13:m_step0.constprop.0\t48\tstatic', 'm.c:10:13:m_step0\t16\tstatic', 'm.c:40:6:m_run\t24\tstatic', 'garbage line', ''].join('\n');
  const f = parseStackUsage(su);
  assert.equal(f.get('m_step0'), 48);
  assert.equal(f.get('m_run'), 24);
  assert.equal(f.size, 2);
});

test('fitsMps2: a model is run on QEMU only when it links in the board memories', () => {
  assert.equal(fitsMps2({ text: 40_000, data: 0, bss: 16_000 }), true);
  assert.equal(fitsMps2({ text: 2_300_000, data: 0, bss: 70_000 }), true);
  assert.equal(fitsMps2({ text: 4_200_000, data: 0, bss: 1000 }), false, 'code over 4 MB');
  assert.equal(fitsMps2({ text: 1000, data: 0, bss: 4_150_000 }), false, 'arena over the RAM left beside the stack');
  assert.equal(fitsMps2({ text: 3_950_000, data: 250_000, bss: 0 }), false, '.data counts in flash too');
});
