// Every reader of user files, each with small valid inputs and a check of what a correct result looks like.
// Shared by the property tests (readers.test.ts) and the hostile corpus runner (run-case.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/core/data/index';
import { parseMatrix } from '../../src/core/data/matrix';
import { encodeNpy } from '../../src/core/data/npy';
import { InputError } from '../../src/core/errors';
import { readLog } from '../../src/core/logs/index';
import { bytesSource, numel, openWeights } from '../../src/core/weights/index';
import { parseTorchPickle } from '../../src/core/weights/pickle';
import { openZip } from '../../src/core/weights/zip';
import { npzOf } from '../helpers/npy';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

export interface Reader {
  /** The reader's name in KNOWN_FAILURES and test titles. */
  name: string;
  /** Readers of one area share a child process in the property run. */
  area: 'data' | 'weights' | 'logs';
  /** Valid files to damage: [name the reader is given, bytes]. */
  inputs(): Promise<[string, Uint8Array][]>;
  /** Reads the whole file as its command would, and checks the result's own consistency. */
  read(bytes: Uint8Array, fileName: string): Promise<void>;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`inconsistent result: ${what}`);
}

async function readDataset(bytes: Uint8Array, fileName: string): Promise<void> {
  const { dataset: ds } = await loadDataset(bytes, fileName, { impute: true });
  check(ds.X.data.length === ds.X.rows * ds.X.cols, 'X.data length is not rows x cols');
  check(ds.y.length === ds.X.rows, 'y length is not rows');
  check(ds.featureNames.length === ds.X.cols, 'a feature name per column');
  check(ds.X.rows > 0, 'no rows without an error');
  if (ds.imageShape) {
    const [c, h, w] = ds.imageShape;
    check(c * h * w === ds.X.cols, 'imageShape C·H·W is the column count');
  }
}

async function readMatrix(bytes: Uint8Array, fileName: string): Promise<void> {
  const m = parseMatrix(bytes, fileName);
  check(m.data.length === m.rows * m.cols && m.rows > 0 && m.cols > 0, 'data length is rows x cols, both > 0');
  for (const v of m.data) check(Number.isNaN(v) || Number.isFinite(v), 'entries are finite or NaN (missing)');
  return Promise.resolve();
}

async function readWeights(bytes: Uint8Array, fileName: string): Promise<void> {
  const file = await openWeights(bytesSource(bytes), fileName);
  for (const t of file.tensors) {
    const values = await file.read(t.name);
    check(values.length === numel(t.shape), `${t.name}: ${values.length} values for shape [${t.shape.join(', ')}]`);
  }
}

async function readLogFile(bytes: Uint8Array, fileName: string): Promise<void> {
  const log = readLog(bytes, fileName);
  for (const p of log.points) check(typeof p.tag === 'string' && Number.isFinite(p.step), `point ${JSON.stringify(p)}`);
  for (const p of log.problems)
    check(typeof p.message === 'string' && p.message.length > 0, 'a problem without a message');
}

const files =
  (...names: string[]) =>
  async (): Promise<[string, Uint8Array][]> =>
    names.map((n) => [n.replace(/^.*\//, ''), fixture(n)]);

/** The data.pkl of a torch zip, for the pickle machine alone. */
async function pickleOf(name: string): Promise<Uint8Array> {
  const zip = await openZip(bytesSource(fixture(name)), name);
  const entry = zip.entries.find((e) => e.name.endsWith('/data.pkl'));
  if (!entry) throw new Error(`${name} has no data.pkl`);
  return zip.read(entry);
}

export const READERS: Reader[] = [
  {
    name: 'csv',
    area: 'data',
    inputs: files('csv/quoted.csv', 'csv/categorical.csv', 'csv/missing.csv'),
    read: readDataset,
  },
  { name: 'npy', area: 'data', inputs: files('npy/f8_c_le.npy', 'npy/i4_f_be.npy'), read: readDataset },
  { name: 'npz', area: 'data', inputs: files('npy/xy_stored.npz', 'npy/xy_deflated.npz'), read: readDataset },
  { name: 'parquet', area: 'data', inputs: files('iris.parquet'), read: readDataset },
  {
    name: 'npz-images',
    area: 'data',
    // (N, C, H, W) and channels-last (N, H, W, 3) image arrays with labels, built here (a few KB).
    inputs: async () => {
      const px = (n: number) => Array.from({ length: n }, (_, i) => (i * 37) % 11);
      return [
        ['images.npz', npzOf({ X: { shape: [4, 2, 3, 3], values: px(72) }, y: { shape: [4], values: [0, 1, 0, 1] } })],
        ['rgb.npz', npzOf({ X: { shape: [3, 4, 4, 3], values: px(144) }, y: { shape: [3], values: [1, 0, 1] } })],
      ];
    },
    read: readDataset,
  },
  {
    name: 'matrix',
    area: 'data',
    // lin-RFM's matrix files (core/data/matrix.ts), built here: dense CSV with gaps, long format, .npy with NaN.
    inputs: async () => {
      const te = new TextEncoder();
      const npy = Float64Array.from({ length: 12 }, (_, i) => (i % 5 === 0 ? NaN : i / 3));
      return Promise.resolve<[string, Uint8Array][]>([
        ['gaps.csv', te.encode('a,b,c\n1,,3.5\n4,5,NaN\n,8,9\n')],
        ['long.csv', te.encode('row,col,value\n0,0,1.5\n2,1,-2\n1,3,4\n')],
        ['gaps.npy', encodeNpy(npy, [3, 4])],
      ]);
    },
    read: readMatrix,
  },
  { name: 'safetensors', area: 'weights', inputs: files('weights/mlp.safetensors'), read: readWeights },
  {
    name: 'pt',
    area: 'weights',
    inputs: files('weights/mlp.pt', 'weights/mlp_protocol4.pt', 'weights/train_checkpoint.pt'),
    read: readWeights,
  },
  {
    name: 'pickle',
    area: 'weights',
    inputs: async () => [
      ['data.pkl', await pickleOf('weights/mlp.pt')],
      ['checkpoint data.pkl', await pickleOf('weights/train_checkpoint.pt')],
    ],
    read: async (bytes, label) => void parseTorchPickle(bytes, label),
  },
  {
    name: 'npz-weights',
    area: 'weights',
    inputs: files('weights/mlp.npz', 'weights/mlp_compressed.npz'),
    read: readWeights,
  },
  { name: 'npy-weights', area: 'weights', inputs: files('weights/single.npy'), read: readWeights },
  { name: 'tfevents', area: 'logs', inputs: files('logs/events.out.tfevents.1700000000.fixture'), read: readLogFile },
  { name: 'jsonl', area: 'logs', inputs: files('logs/train.jsonl'), read: readLogFile },
  { name: 'csv-log', area: 'logs', inputs: files('logs/metrics.csv'), read: readLogFile },
];

export type Outcome = { ok: true; ms: number } | { ok: false; ms: number; clear: boolean; error: string };

/**
 * Runs a reader on one input: a correct result, or an InputError whose message names the file. Anything
 * else (TypeError, RangeError, stack overflow, an inconsistent result, an error not naming the file) is
 * `clear: false`.
 */
export async function outcome(reader: Reader, bytes: Uint8Array, fileName: string): Promise<Outcome> {
  const t0 = performance.now();
  try {
    await reader.read(bytes, fileName);
    return { ok: true, ms: performance.now() - t0 };
  } catch (e) {
    const ms = performance.now() - t0;
    const clear = e instanceof InputError && e.message.includes(fileName) && e.message.length > fileName.length + 5;
    return { ok: false, ms, clear, error: e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : String(e) };
  }
}
