import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkDatasetSize, DATASET_EXTENSIONS, DEFAULT_MAX_DATASET_BYTES } from '../../src/core/data/index';
import { readDatasetFile } from '../../src/core/data/node';
import { FIXTURES, rejectsWith } from './data-helpers';

describe('datasets on disk', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'feature-lens-data-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file by path and names the path', async () => {
    const { dataset } = await readDatasetFile(join(FIXTURES, 'iris.csv'), { target: 'species' });
    assert.equal(dataset.X.rows, 150);
    assert.equal(dataset.source, join(FIXTURES, 'iris.csv'));
  });

  it('a 2 GB file is refused from its size, before reading', async () => {
    const big = join(dir, 'huge.csv');
    await writeFile(big, '');
    await truncate(big, 2 * 10 ** 9); // sparse: no disk used, nothing read
    await rejectsWith(() => readDatasetFile(big), 'huge.csv', '1.86 GiB', '2000000000 bytes', '1.00 GiB');
  });

  it('a missing file and a directory', async () => {
    await rejectsWith(() => readDatasetFile(join(dir, 'nope.csv')), 'nope.csv', 'no such file');
    await rejectsWith(() => readDatasetFile(dir), dir, 'not a regular file');
  });

  it('the size limit and the extension list', () => {
    assert.equal(DEFAULT_MAX_DATASET_BYTES, 2 ** 30);
    assert.deepEqual([...DATASET_EXTENSIONS], ['.csv', '.tsv', '.npy', '.npz', '.parquet']);
    checkDatasetSize(2 ** 30, 'ok.csv');
    assert.throws(
      () => checkDatasetSize(2 ** 30 + 1, 'big.npy'),
      /big\.npy: is 1\.00 GiB \(1073741825 bytes\), over the 1\.00 GiB/,
    );
    assert.throws(() => checkDatasetSize(11, 'small.csv', 10), /small\.csv: is 11 bytes, over the 10 bytes limit/);
  });
});
