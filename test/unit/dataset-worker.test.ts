// The extension host's dataset worker (core/data/node.ts datasetWorker): the same dataset as the
// in-thread loader, errors that keep their kind, the bytes handed back by inspect, and cancellation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { inspectDataset, loadDataset } from '../../src/core/data/index';
import { parseMatrix } from '../../src/core/data/matrix';
import { datasetWorker } from '../../src/core/data/node';
import { CancelledError, InputError } from '../../src/core/errors';
import { FIXTURES } from './data-helpers';

const read = async (name: string) => new Uint8Array(await readFile(join(FIXTURES, name)));

describe('dataset worker thread', () => {
  // The worker entry bundled as esbuild.mjs bundles it for the extension (a worker does not inherit tsx).
  let dir = '';
  let worker: ReturnType<typeof datasetWorker>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'feature-lens-worker-'));
    const outfile = join(dir, 'dataset-worker.js');
    const entry = join(import.meta.dirname, '../../src/extension/host/datasetWorker.ts');
    await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
    worker = datasetWorker(outfile);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads iris as the in-thread loader does, with the SHA-256 of the bytes', async () => {
    const bytes = await read('iris.csv');
    const hash = createHash('sha256').update(bytes).digest('hex');
    const here = await loadDataset(bytes, 'iris.csv', { target: 'species' });
    const there = await worker.load(bytes, 'iris.csv', { target: 'species' });
    assert.equal(bytes.byteLength, 0, 'the bytes were handed over, not copied');
    assert.equal(there.sha256, hash);
    assert.deepEqual(there.schema, here.schema);
    assert.deepEqual(there.dataset.X, here.dataset.X);
    assert.deepEqual(there.dataset.y, here.dataset.y);
    assert.ok(there.dataset.X.data instanceof Float64Array);
    assert.deepEqual(there.dataset.classes, ['setosa', 'versicolor', 'virginica']);
  });

  it('encodes a test file with the training schema, Parquet included', async () => {
    const train = await worker.load(await read('iris.csv'), 'iris.csv', { target: 'species' });
    const test = await worker.load(await read('iris.parquet'), 'iris.parquet', { target: 'species' }, train.schema);
    assert.equal(test.dataset.X.cols, train.dataset.X.cols);
    assert.deepEqual(test.dataset.y, train.dataset.y);
  });

  it('inspect summarises and hands the bytes back intact', async () => {
    const bytes = await read('wine.csv');
    const copy = bytes.slice();
    const here = await inspectDataset(copy.slice(), 'wine.csv');
    const { bytes: back, ...info } = await worker.inspect(bytes, 'wine.csv');
    assert.deepEqual(info, here);
    assert.deepEqual(back, copy);
  });

  it('an input error stays an InputError naming the file and what was expected', async () => {
    const bytes = new TextEncoder().encode('a,b\n1,2\n3\n');
    await assert.rejects(worker.load(bytes, 'ragged.csv'), (e: Error) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /ragged\.csv/);
      assert.match(e.message, /row 3 has 1 field; expected 2/);
      return true;
    });
  });

  it('a matrix with gaps (lin-RFM) parses as core/data/matrix.ts does in-thread, .npy and .csv', async () => {
    for (const name of ['lowrank.npy', 'lowrank.csv']) {
      const bytes = new Uint8Array(await readFile(join(import.meta.dirname, '../../examples', name)));
      const here = parseMatrix(bytes.slice(), name);
      const there = await worker.matrix(bytes, name);
      assert.equal(bytes.byteLength, 0, 'the bytes were handed over, not copied');
      assert.deepEqual([there.rows, there.cols, there.format], [here.rows, here.cols, here.format]);
      assert.ok(there.data instanceof Float64Array);
      assert.deepEqual(there.data, here.data);
    }
    await assert.rejects(worker.matrix(new TextEncoder().encode('1,2\n3\n'), 'ragged.csv'), (e: Error) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /ragged\.csv/);
      return true;
    });
  });

  it('cancelling ends the job with CancelledError', async () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `${i},${i % 7},${(i * 13) % 11}`).join('\n');
    const bytes = new TextEncoder().encode(`a,b,y\n${rows}\n`);
    const abort = new AbortController();
    const job = worker.load(bytes, 'big.csv', { target: 'y' }, undefined, abort.signal);
    setTimeout(() => abort.abort(), 20);
    await assert.rejects(job, CancelledError);
  });
});
