// Issue 11, budgets: every hostile case below used to die with "RangeError: Invalid typed array length"
// (exit 70), run for minutes, or read a whole huge file first. Each now returns a clear InputError (exit
// 1) fast and within a heap limit. Big files are generated here (sparse where only the size matters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { cliOption, InputError } from '../../src/core/errors';
import { loadDataset } from '../../src/core/data/index';
import {
  MAX_CELLS,
  MAX_COLUMNS,
  MAX_CPU_TREE_SECONDS,
  MAX_FEATURES,
  MAX_LOG_BYTES,
  MAX_ROWS,
  MAX_TEXT_DATASET_BYTES,
} from '../../src/core/limits';
import {
  checkCpuTreeBudget,
  checkRfmBudget,
  estimateCpuTree,
  estimateRfm,
  largestCpuRows,
} from '../../src/core/rfm/budget';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm, standardizer } from '../../src/core/rfm/fit';
import { mat } from '../../src/core/mat';
import { detectSpikes, seriesProblems } from '../../src/core/logs/spikes';
import { readLog } from '../../src/core/logs/readers';
import { maskedCrc32c } from '../../src/core/logs/crc32c';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'fl-budgets-'));
// The child reports its peak RSS on exit, so each case can assert a memory bound as well as the heap limit.
// Peak RSS and CPU time (user + system, all threads) of the child, printed as it exits: CPU time, not wall
// time, is what a refusal costs, and it does not grow when other jobs share the machine.
const RSS_HOOK = `data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\nmaxrss_kb '+u.maxRSS+' cpu_us '+(u.userCPUTime+u.systemCPUTime)+'\\n')})`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The child's CPU seconds (user + system). */
  seconds: number;
  rssMb: number;
}

/** `feature-lens ARGS` from the sources with a V8 heap limit (an allocation past it is an OOM crash, not exit 1). */
function cli(args: string[], heapMb = 256): Run {
  const r = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      '--import',
      'tsx',
      '--import',
      join(root, 'test', 'register-wgsl.mjs'),
      '--import',
      RSS_HOOK,
      join(root, 'src', 'cli', 'main.ts'),
      ...args,
    ],
    // The work in this process itself (not a child with filtered stderr): its peak RSS is what is measured.
    { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, FEATURE_LENS_STDERR_FILTERED: '1' } },
  );
  const usage = /maxrss_kb (\d+) cpu_us (\d+)/.exec(r.stderr);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr.replace(/\nmaxrss_kb \d+ cpu_us \d+\n/, ''),
    seconds: usage ? Number(usage[2]) / 1e6 : NaN,
    rssMb: usage ? Number(usage[1]) / 1024 : NaN,
  };
}

/** Exit 1 with the message, no stack trace, within `seconds` of CPU time and `rssMb`. */
function refused(r: Run, message: RegExp, seconds: number, rssMb: number): void {
  assert.equal(r.status, 1, `exit ${r.status}; stderr: ${r.stderr.slice(0, 600)}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|RangeError| {4}at /);
  assert.ok(r.seconds < seconds, `took ${r.seconds.toFixed(1)} s of CPU time (limit ${seconds} s)`);
  assert.ok(r.rssMb < rssMb, `peak RSS ${r.rssMb.toFixed(0)} MB (limit ${rssMb} MB)`);
}

function sparse(path: string, bytes: number, head = ''): string {
  writeFileSync(path, head);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

test('CSV of 600,000 rows on --backend cpu: the kernel-matrix budget refuses it with the largest n', () => {
  const lines = ['a,b,target'];
  for (let i = 0; i < 600_000; i++) lines.push(`${(i % 997) / 997},${(i % 89) / 89},${i % 2}`);
  const path = join(dir, 'rows600k.csv');
  writeFileSync(path, lines.join('\n'));
  // One fit (--no-tree): --solver auto picks EigenPro (K does not fit), which the time estimate refuses at once.
  refused(
    cli(['fit', path, '--backend', 'cpu', '--no-tree', '--quiet', '--val-fraction', '0'], 512),
    /rows600k\.csv: an RFM fit of 600000 training rows \(d = 2\) on the CPU is refused: it would take about \d+ s \(estimate\), over the CPU limit of 600 s; run on WebGPU .*subsample the training rows to at most \d+/,
    20,
    700,
  );
  // All rows train (no validation split), so the refusal names the file's row count.
  const r = cli(
    ['fit', path, '--backend', 'cpu', '--no-tree', '--solver', 'direct', '--quiet', '--val-fraction', '0'],
    512,
  );
  refused(
    r,
    /rows600k\.csv: an RFM fit of 600000 training rows \(d = 2\) on the CPU is refused: its 600000 x 600000 float64 kernel matrix needs 2\.62 TiB, over the CPU limit of 1\.00 GiB; run on WebGPU .*subsample the training rows to at most \d+/,
    20,
    700,
  );
});

test('20,000 rows on --backend cpu are refused at once (not minutes of silence)', () => {
  const lines = ['a,b,c,target'];
  for (let i = 0; i < 20_000; i++) lines.push(`${(i % 97) / 97},${(i % 89) / 89},${(i % 13) / 13},${i % 3}`);
  const path = join(dir, 'rows20k.csv');
  writeFileSync(path, lines.join('\n'));
  refused(
    cli(['fit', path, '--backend', 'cpu', '--no-tree', '--val-fraction', '0']),
    /20000 training rows \(d = 3\) on the CPU is refused: it would take about \d+ s \(estimate\).*at most \d+/,
    10,
    300,
  );
  const r = cli(['fit', path, '--backend', 'cpu', '--no-tree', '--solver', 'direct', '--val-fraction', '0']);
  refused(
    r,
    /20000 training rows \(d = 3\) on the CPU is refused: .*kernel matrix needs 2\.98 GiB.*at most \d+/,
    10,
    400,
  );
});

test('20,000 rows on --backend cpu planned as an xRFM tree (fit --plan): the default leaf is the largest the CPU limits allow', () => {
  const lines = ['a,b,c,target'];
  for (let i = 0; i < 20_000; i++) lines.push(`${(i % 97) / 97},${(i % 89) / 89},${(i % 13) / 13},${i % 3}`);
  const path = join(dir, 'rows20k-tree.csv');
  writeFileSync(path, lines.join('\n'));
  const plan = join(dir, 'plan20k');
  // All of a leaf's rows train (no validation split), so the leaf is the largest fit the CPU holds.
  const r = cli(['fit', path, '--backend', 'cpu', '--split-samples', '200', '--plan', plan, '--val-fraction', '0']);
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(plan, 'plan.json'), 'utf8'));
  const leafSize: number = manifest.tree.leaf_size;
  assert.match(r.stderr, new RegExp(`note: xRFM tree: leaves of at most ${leafSize} rows`));
  // The largest leaf: within the CPU's kernel-matrix and time limits for this shape (d = 3, 3 classes).
  const shape = { d: 3, classes: 3, iters: 3, agopSamples: 20000, diag: false };
  checkRfmBudget({ ...shape, n: leafSize, nTest: 0 }, 'cpu', 'leaf');
  assert.throws(() => checkRfmBudget({ ...shape, n: leafSize + 1, nTest: 0 }, 'cpu', 'leaf'), InputError);
  const sizes = manifest.leaves.map((l: { rows: number }) => l.rows);
  assert.equal(
    sizes.reduce((a: number, b: number) => a + b, 0),
    20_000,
  );
  assert.ok(Math.max(...sizes) <= leafSize && Math.max(...sizes) > leafSize / 2, `leaf sizes ${sizes}`);
});

test('the RFM estimate: the largest n is under the limits and the refusal names the alternatives', () => {
  const shape = { n: 20_000, d: 10, classes: 2, nTest: 0, iters: 3, agopSamples: 20_000, diag: false };
  const n = largestCpuRows(shape);
  assert.ok(n > 1000 && n < 20_000, `largest n ${n}`);
  assert.ok(n * n * 8 <= 2 ** 30);
  assert.doesNotThrow(() => checkRfmBudget({ ...shape, n }, 'cpu', 'x'));
  assert.throws(
    () => checkRfmBudget({ ...shape, n: n + 1 }, 'cpu', 'x.csv'),
    (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(e.phrased(cliOption), new RegExp(`x\\.csv: .*--backend webgpu.*at most ${n}\\b`));
      return true;
    },
  );
  // WebGPU is not refused by the CPU's limit; its estimate keeps K on the device only when it fits.
  assert.doesNotThrow(() => checkRfmBudget(shape, 'webgpu', 'x'));
  assert.equal(estimateRfm({ ...shape, n: 40_000 }, 'webgpu').deviceBytes, 40_000 * 10 * 4 * 2);
  assert.ok(estimateRfm(shape, 'webgpu').deviceBytes >= 20_000 * 20_000 * 4);
});

test(`CSV of 100,000 columns: refused at its first row (limit ${MAX_COLUMNS})`, () => {
  const header = Array.from({ length: 100_000 }, (_, j) => `c${j}`).join(',') + ',target';
  const row = (i: number) => Array.from({ length: 100_000 }, () => '1').join(',') + `,${i % 2}`;
  const path = join(dir, 'wide.csv');
  writeFileSync(path, [header, row(0), row(1), row(2)].join('\n'));
  refused(
    cli(['fit', path, '--quiet']),
    /wide\.csv: row 1: has 100001 columns, over the limit of 10000 columns for a dataset; select the columns you need first/,
    10,
    400,
  );
});

test(`20 text columns x 1000 categories: the one-hot width (d = 20,000) is refused before X is built`, () => {
  const lines = [Array.from({ length: 20 }, (_, j) => `t${j}`).join(',') + ',target'];
  for (let i = 0; i < 2000; i++)
    lines.push(Array.from({ length: 20 }, (_, j) => `v${(i * 7 + j) % 1000}`).join(',') + `,${i % 2}`);
  const path = join(dir, 'cats.csv');
  writeFileSync(path, lines.join('\n'));
  refused(
    cli(['fit', path, '--quiet']),
    new RegExp(
      `cats\\.csv: one-hot encoding gives d = 20000 features, over the limit of ${MAX_FEATURES} .*'t0' \\(1000 categories\\).*drop or bucket`,
    ),
    10,
    400,
  );
});

test('a 599 MiB CSV is refused from stat, before a byte is read', () => {
  const path = sparse(join(dir, 'huge.csv'), 599 * 2 ** 20, 'a,b,target\n');
  const r = cli(['fit', path]);
  refused(r, /huge\.csv: is 599\.0 MiB .*over the 500\.0 MiB .*limit for a text dataset; .*\.npy or \.parquet/, 5, 200);
  assert.ok(599 * 2 ** 20 > MAX_TEXT_DATASET_BYTES);
});

test('a 1.5 GiB log is refused from stat (spikes)', () => {
  const path = sparse(join(dir, 'train.csv'), 1.5 * 2 ** 30, 'step,loss\n');
  const r = cli(['spikes', path]);
  refused(r, /train\.csv: is 1\.50 GiB, over the 512\.0 MiB limit for a log read at once/, 5, 200);
  const events = sparse(join(dir, 'events.out.tfevents.1.host'), MAX_LOG_BYTES + 1);
  refused(cli(['spikes', events]), /events\.out\.tfevents\.1\.host: is .*over the 512\.0 MiB limit/, 5, 200);
});

function npyBytes(shape: number[], dataBytes: number): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + dataBytes);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  return out;
}

test('a small .npz declaring 67M rows stops at its first inflated chunk', () => {
  // Zeros deflate ~1000:1: 128 MB of zeros (of the 1 GB the header declares) in ~130 KB of file.
  const X = npyBytes([67_000_000, 2], 128 * 2 ** 20);
  const y = npyBytes([67_000_000], 1000);
  const path = join(dir, 'lie.npz');
  writeFileSync(path, zipSync({ 'X.npy': [X, { level: 1 }], 'y.npy': y }));
  assert.ok(readFileSync(path).length < 8 * 2 ** 20);
  refused(
    cli(['fit', path, '--quiet']),
    /lie\.npz: array 'X': shape \(67000000, 2\): declares 67000000 rows, over the limit of 1000000 rows/,
    10,
    400,
  );
});

test('an .npy whose header declares more cells than the limit is refused before allocating', async () => {
  const bytes = npyBytes([MAX_ROWS, 200], 16);
  await assert.rejects(loadDataset(bytes, 'big.npy'), (e: Error) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, new RegExp(`big\\.npy: shape \\(1000000, 200\\): .*over the limit of ${MAX_CELLS} values`));
    return true;
  });
});

test('a Parquet footer declaring 30M rows is refused before a page is decoded', async () => {
  const iris = readFileSync(join(root, 'test', 'fixtures', 'iris.parquet'));
  // FileMetaData.num_rows (field 3, i64, compact protocol): 0x16 then zigzag varint 300 (= 150 rows).
  const metaLen = iris.readUInt32LE(iris.length - 8);
  const metaStart = iris.length - 8 - metaLen;
  const meta = iris.subarray(metaStart, iris.length - 8);
  const at = meta.indexOf(Buffer.from([0x16, 0xac, 0x02]));
  assert.ok(at >= 0, 'num_rows field found');
  const varint = (v: number) => {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  const newMeta = Buffer.concat([meta.subarray(0, at + 1), Buffer.from(varint(60_000_000)), meta.subarray(at + 3)]);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(newMeta.length, 0);
  tail.write('PAR1', 4);
  const lying = Buffer.concat([iris.subarray(0, metaStart), newMeta, tail]);
  const path = join(dir, 'lying.parquet');
  writeFileSync(path, lying);
  await assert.rejects(
    loadDataset(new Uint8Array(lying), 'lying.parquet'),
    /lying\.parquet: declares 30000000 rows, over the limit of 1000000 rows/,
  );
  refused(
    cli(['fit', path, '--quiet']),
    /lying\.parquet: declares 30000000 rows, over the limit of 1000000 rows/,
    10,
    300,
  );
});

test('a ±1e308 feature keeps its importance: the standard deviation does not overflow', async () => {
  const n = 60;
  const X = new Float64Array(n * 2),
    y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    X[i * 2] = i % 2 ? 1e308 : -1e308;
    X[i * 2 + 1] = ((i * 37) % 11) / 11;
    y[i] = i % 2;
  }
  const s = standardizer(mat(n, 2, X));
  assert.ok(Math.abs(s.std[0] / 1e308 - 1) < 1e-12, `std ${s.std[0]}`);
  assert.ok(Math.abs(s.mean[0]) < 1e295, `mean ${s.mean[0]}`);
  const big = standardizer(mat(2, 1, new Float64Array([1.7e308, -1.7e308])));
  assert.ok(Number.isFinite(big.std[0]) && big.std[0] > 1e308);
  // Ordinary columns keep their exact statistics.
  const small = standardizer(mat(3, 1, new Float64Array([1, 2, 4])));
  assert.equal(small.mean[0], 7 / 3);
  const ds = {
    source: 'huge.csv',
    X: mat(n, 2, X),
    featureNames: ['a', 'b'],
    y,
    targetName: 'target',
    task: 'classification' as const,
    classes: ['0', '1'],
  };
  const r = await fitRfm(ds, { iters: 1 }, { backend: new CpuBackend() });
  assert.ok(r.importance[0] > r.importance[1], `importance ${[...r.importance]}`);
  assert.equal(r.final.trainMetric, 1);
});

test('a one-class target is refused; --positive-class 99 on a 2-class file is refused', async () => {
  const lines = ['a,b,target'];
  for (let i = 0; i < 20; i++) lines.push(`${i / 20},${(i * 7) % 5},cat`);
  const one = join(dir, 'oneclass.csv');
  writeFileSync(one, lines.join('\n'));
  refused(
    cli(['fit', one, '--backend', 'cpu', '--quiet']),
    /oneclass\.csv: the target 'target' has one class \('cat'\) in all 20 training rows; expected at least two classes/,
    10,
    300,
  );
  const two = join(dir, 'twoclass.csv');
  writeFileSync(
    two,
    ['a,b,target', ...Array.from({ length: 40 }, (_, i) => `${i / 40},${(i * 7) % 5},${i % 2}`)].join('\n'),
  );
  refused(
    cli(['catapult', '--model', 'relu', '--data', two, '--positive-class', '99', '--backend', 'cpu']),
    /--positive-class 99: .*twoclass\.csv has 2 classes in 'target' \(0 = '0', 1 = '1'\); expected a class index 0\.\.1/,
    10,
    300,
  );
});

test('catapult --steps 1e9, --width 1e6 and an oversized run are refused with the limit', () => {
  refused(
    cli(['catapult', '--model', 'linear', '--steps', '1e9']),
    /--steps: expected a positive integer at most 1000000/,
    5,
    300,
  );
  refused(
    cli(['catapult', '--model', 'relu', '--width', '1e6']),
    /--width: expected a positive integer at most 65536/,
    5,
    300,
  );
  refused(
    cli(['catapult', '--model', 'relu', '--steps', '100000', '--backend', 'cpu']),
    /100000 steps x width 256 .* over the limit of 2e\+10; lower --steps/,
    5,
    300,
  );
});

test('spikes: negative losses are detected on a linear scale, not ignored', () => {
  const steps: number[] = [],
    values: number[] = [];
  for (let i = 0; i < 200; i++) {
    steps.push(i);
    values.push(-2 + 0.01 * Math.sin(i * 1.7) + (i >= 100 && i < 104 ? 3 : 0));
  }
  const spikes = detectSpikes(steps, values);
  assert.equal(spikes.length, 1);
  assert.equal(spikes[0].start, 100);
  assert.ok(spikes[0].recovered);
  assert.ok(Math.abs(spikes[0].baseline + 2) < 0.05, `baseline ${spikes[0].baseline}`);
  assert.match(
    seriesProblems(steps, values, 'loss')[0].message,
    /loss has \d+ value\(s\) <= 0 \(first .* at step 0\).*linear scale/,
  );
});

test('spikes: a single NaN/Inf point is a problem and still a spike', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const steps: number[] = [],
      values: number[] = [];
    for (let i = 0; i < 100; i++) {
      steps.push(i * 10);
      values.push(i === 60 ? bad : 1 + 0.01 * Math.sin(i));
    }
    const spikes = detectSpikes(steps, values);
    assert.equal(spikes.length, 1, `value ${bad}`);
    assert.equal(spikes[0].peak, 600);
    assert.equal(spikes[0].heightRatio, Infinity);
    assert.ok(spikes[0].recovered);
    const problems = seriesProblems(steps, values, 'loss');
    assert.deepEqual(
      problems.map((p) => p.message),
      [`step 600: loss is ${bad} (a non-finite loss; counted as a spike)`],
    );
  }
  const log = join(dir, 'nan.csv');
  writeFileSync(
    log,
    ['step,loss', ...Array.from({ length: 100 }, (_, i) => `${i},${i === 60 ? 'nan' : 1 + 0.01 * Math.sin(i)}`)].join(
      '\n',
    ),
  );
  const r = cli(['spikes', log, '--json', '-']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /nan\.csv: step 60: loss is NaN \(a non-finite loss; counted as a spike\)/);
  const report = JSON.parse(r.stdout);
  assert.equal(report.spikes.length, 1);
  assert.equal(report.spikes[0].peak, 60);
  assert.equal(report.spikes[0].non_finite_peak, true);
});

/** Offsets of the records of a TFRecord file. */
function recordOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let pos = 0; pos + 12 <= bytes.length;) {
    out.push(pos);
    pos += 12 + Number(view.getBigUint64(pos, true)) + 4;
  }
  return out;
}

function withLength(bytes: Uint8Array, at: number, length: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(at, BigInt(length), true);
  view.setUint32(at + 8, maskedCrc32c(out, at, at + 8), true);
  return out;
}

test('TensorBoard: one bogus record length with a valid CRC does not hide the later records', () => {
  const name = 'events.out.tfevents.1700000000.fixture';
  const good = new Uint8Array(readFileSync(join(root, 'test', 'fixtures', 'logs', name)));
  const all = readLog(good, name).points;
  const offsets = recordOffsets(good);
  const k = 3;
  const alone = readLog(good.slice(offsets[k], offsets[k + 1]), name).points.length;
  // Past the end of the file, and inside it (swallowing the next records).
  for (const length of [50_000_000, offsets[k + 4] - offsets[k] - 16]) {
    const log = readLog(withLength(good, offsets[k], length), name);
    assert.equal(log.points.length, all.length - alone, `length ${length}`);
    assert.deepEqual(log.points.at(-1), all.at(-1));
    assert.ok(
      log.problems.some((p) => p.byteOffset === offsets[k]),
      `a problem at byte ${offsets[k]}: ${JSON.stringify(log.problems)}`,
    );
  }
});

test('a one-machine CPU tree is estimated leaf by leaf and refused over its limit, naming the cluster way out', () => {
  const shape = { d: 4, classes: 2, iters: 3, agopSamples: 20_000, diag: false, heldOut: 0.2 };
  const leafSize = 10_000;
  // 600,000 rows: 64 leaves of 9375 rows, each one fit within the one-fit limits, together far over.
  const big = estimateCpuTree({ ...shape, rows: 600_000 }, leafSize);
  assert.equal(big.leaves, 64);
  assert.equal(big.leafRows, 9375);
  const leafFit = estimateRfm({ ...shape, n: 9375 - 1875, nTest: 1875 }, 'cpu').seconds!;
  assert.ok(Math.abs(big.seconds - 64 * leafFit) < 1e-6 * big.seconds);
  assert.ok(big.seconds > MAX_CPU_TREE_SECONDS);
  assert.throws(
    () => checkCpuTreeBudget({ ...shape, rows: 600_000 }, leafSize, 'rows.csv'),
    (e: Error) =>
      e instanceof InputError &&
      /^rows\.csv: an xRFM tree of 600000 rows on the CPU is refused: 64 leaves of about 9375 rows would take about \d+ s \(estimate\), over the CPU limit of 3600 s; .*the plan option DIR .*subsample the rows to at most \d+$/.test(
        e.message,
      ),
  );
  // The largest row count it names is one the limit allows.
  const named = Number(
    /at most (\d+)$/.exec(
      (() => {
        try {
          checkCpuTreeBudget({ ...shape, rows: 600_000 }, leafSize, 'rows.csv');
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })(),
    )![1],
  );
  assert.ok(estimateCpuTree({ ...shape, rows: named }, leafSize).seconds <= MAX_CPU_TREE_SECONDS);
  assert.ok(estimateCpuTree({ ...shape, rows: named + 1 }, leafSize).seconds > MAX_CPU_TREE_SECONDS);
  // 20,000 rows: two leaves, allowed.
  checkCpuTreeBudget({ ...shape, rows: 20_000 }, leafSize, 'rows.csv');
});
