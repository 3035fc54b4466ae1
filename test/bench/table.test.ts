// The benchmark tables: numbers to 3 significant digits, ratios with an x, numeric
// columns (marks and units included) right-aligned, text left-aligned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSig, formatRatio, formatTable } from '../../bench/table.js';

describe('bench tables', () => {
  it('formats milliseconds to 3 significant digits and ratios with an x', () => {
    assert.equal(formatSig(0.012345), '0.0123');
    assert.equal(formatSig(1.2345), '1.23');
    assert.equal(formatSig(1234.5), '1235');
    assert.equal(formatSig(undefined), '-');
    assert.equal(formatSig(NaN), '-');
    assert.equal(formatRatio(3, 1.5), '2.00x');
    assert.equal(formatRatio(250, 1), '250x');
    assert.equal(formatRatio(1, undefined), '-');
    assert.equal(formatRatio(1, 0), '-');
  });

  it('aligns numeric columns right (with *, !, x and % marks) and text left', () => {
    const t = formatTable(['model', 'ms', 'kept', 'bytes'], [['LeNet-5', '1.23*', '8%', '1,234'], ['VGG-S', '12.3', '100%', '-']]).split('\n');
    assert.deepEqual(t, [
      'model       ms  kept  bytes',
      '-------  -----  ----  -----',
      'LeNet-5  1.23*    8%  1,234',
      'VGG-S     12.3  100%      -',
    ]);
    assert.deepEqual(formatTable(['a', 'b'], [['x1', '2.0×']]).split('\n'), ['a   b', '--  ----', 'x1  2.0×'], 'other text stays left-aligned');
  });
});
