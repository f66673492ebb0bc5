// Loader benchmark: seconds and throughput of loadDataset on a synthetic table of
// n rows x 20 numeric features + one categorical feature + a label, as CSV, .npy and deflated .npz.
// Prints JSON. Usage: node --import tsx bench/load.mjs [--rows 200000]
import { zipSync } from 'fflate';
import { loadDataset } from '../src/core/data/index.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const n = Number(arg('--rows', 200000));
const d = 20;
let seed = 12345;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;

const values = new Float64Array(n * (d + 1));
const colours = ['red', 'green', 'blue', 'cyan'];
const lines = [[...Array.from({ length: d }, (_, j) => `f${j}`), 'colour', 'label'].join(',')];
for (let i = 0; i < n; i++) {
  const row = [];
  for (let j = 0; j < d; j++) row.push((values[i * (d + 1) + j] = Math.round((rand() * 2 - 1) * 1e6) / 1e5));
  values[i * (d + 1) + d] = row[0] > 0 ? 1 : 0;
  lines.push(`${row.join(',')},${colours[i % 4]},${values[i * (d + 1) + d]}`);
}
const csv = new TextEncoder().encode(lines.join('\n') + '\n');

// numpy .npy v1 header: magic, version, little-endian length, dict padded so the data starts at 64.
function npy(data, shape) {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
const matrix = npy(values, [n, d + 1]);
const X = new Float64Array(n * d);
const y = new Float64Array(n);
for (let i = 0; i < n; i++) {
  X.set(values.subarray(i * (d + 1), i * (d + 1) + d), i * d);
  y[i] = values[i * (d + 1) + d];
}
const npz = zipSync({ 'X.npy': [npy(X, [n, d]), { level: 6 }], 'y.npy': [npy(y, [n]), { level: 6 }] });

const results = [];
for (const [name, bytes] of [
  ['bench.csv', csv],
  ['bench.npy', matrix],
  ['bench.npz', npz],
]) {
  const t = performance.now();
  const { dataset } = await loadDataset(bytes, name);
  const seconds = (performance.now() - t) / 1000;
  results.push({
    file: name,
    bytes: bytes.length,
    rows: dataset.X.rows,
    cols: dataset.X.cols,
    seconds: +seconds.toFixed(3),
    mb_per_s: +(bytes.length / 2 ** 20 / seconds).toFixed(1),
  });
}
process.stdout.write(
  JSON.stringify({ rows: n, results, peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024) }, null, 1) + '\n',
);
