// Dataset widths from the first bytes (the NFA form's filter): text headers, .npy shapes, and the cases
// the first bytes cannot tell.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnsFromHead } from '../../src/core/data/peek';

const bytes = (s: string) => new TextEncoder().encode(s);

/** An .npy v1 header for `shape` (float64), padded to 64 bytes as numpy writes it. */
function npyHead(shape: number[]): Uint8Array {
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const len = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  const header = dict.padEnd(len - 1, ' ') + '\n';
  const out = new Uint8Array(10 + len);
  out.set([0x93, ...bytes('NUMPY'), 1, 0, len & 0xff, len >> 8]);
  out.set(bytes(header), 10);
  return out;
}

test('text tables: the first record counted with the sniffed delimiter, quotes respected', () => {
  assert.equal(columnsFromHead(bytes('a,b,c,y\n1,2,3,4\n'), 'd.csv', true), 4);
  assert.equal(columnsFromHead(bytes('a;b;y\n1,5;2;3\n4;5;6\n'), 'd.csv', true), 3);
  assert.equal(columnsFromHead(bytes('"x, with comma",b,y\n1,2,3\n'), 'd.csv', true), 3);
  assert.equal(columnsFromHead(bytes('a\tb\n1\t2\n'), 'd.tsv', true), 2);
  assert.equal(columnsFromHead(bytes('\uFEFFa,b\n1,2\n'), 'd.csv', true), 2);
  // A head cut inside the first line does not tell; cut after it, it does.
  assert.equal(columnsFromHead(bytes('a,b,c,d,e'), 'big.csv', false), null);
  assert.equal(columnsFromHead(bytes('a,b,c\n1,2,3\n4,5'), 'big.csv', false), 3);
});

test('.npy: columns are the product of the axes after the first; formats without a head answer null', () => {
  assert.equal(columnsFromHead(npyHead([100, 6]), 'x.npy', false), 6);
  assert.equal(columnsFromHead(npyHead([10, 3, 8, 8]), 'img.npy', false), 192);
  assert.equal(columnsFromHead(npyHead([10]), 'v.npy', false), 1);
  assert.equal(columnsFromHead(bytes('not numpy at all'), 'bad.npy', false), null);
  assert.equal(columnsFromHead(bytes('PAR1....'), 'd.parquet', false), null);
  assert.equal(columnsFromHead(bytes('PK..'), 'd.npz', false), null);
});
