// The NFA view's pure helpers: the copied table and the features its heatmaps show.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { NfaCorrelations } from '../../src/core/nfa/correlation';
import { block, correlationRows, correlationTsv, maxAbs, topByDiagonal } from '../../webview/nfa/numbers';

const corr = (base: number): NfaCorrelations => ({
  cosine: { agop: base + 0.1, sqrt_agop: base + 0.2 },
  pearson: { agop: base + 0.3, sqrt_agop: base + 0.4 },
  cosine_offdiag: { agop: base + 0.5, sqrt_agop: base + 0.6 },
  pearson_offdiag: { agop: base + 0.7, sqrt_agop: NaN },
});

test('the correlation table has one row per layer plus the RFM, columns in the order of the header', () => {
  const rows = correlationRows(
    [
      { name: '0.weight', correlation: corr(0) },
      { name: '2.weight', correlation: corr(1) },
    ],
    { comparedWith: '0.weight', correlation: corr(2) },
  );
  assert.deepEqual(
    rows.map((r) => r.label),
    ['0.weight', '2.weight', 'RFM M vs NFM of 0.weight'],
  );
  assert.deepEqual(rows[1].values, [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, NaN]);
  const tsv = correlationTsv(rows).split('\n');
  assert.equal(tsv.length, 5); // header, 3 rows, trailing newline
  assert.equal(tsv[0].split('\t').length, 9);
  assert.equal(tsv[0].split('\t')[4], 'Pearson AGOP^1/2');
  assert.equal(tsv[1], ['0.weight', 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 'NaN'].join('\t'));
  assert.equal(tsv[4], '');
  assert.equal(correlationRows([{ name: 'a', correlation: corr(0) }], null).length, 1);
});

test('heatmaps show the inputs with the largest NFM diagonal, the same block of every matrix', () => {
  // diag = [1, 9, 4, 9]: ties keep index order.
  const m = Float64Array.from([1, 2, 3, 4, 2, 9, 5, 6, 3, 5, 4, 7, 4, 6, 7, 9]);
  assert.deepEqual(topByDiagonal(m, 4, 3), [1, 3, 2]);
  assert.deepEqual(topByDiagonal(m, 4, 10), [1, 3, 2, 0]);
  assert.deepEqual(Array.from(block(m, 4, [1, 3])), [9, 6, 6, 9]);
  assert.equal(maxAbs(Float64Array.from([-3, 2, 1])), 3);
});
