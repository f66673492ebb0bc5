// Live-view throughput: a writer appends a Lightning-style CSV log at a fixed rate
// (default 10,000 points per second, in 10 writes per second) while a LogFollower syncs every 100 ms
// through byte-range reads, as the extension's spikes view does for file: URIs. Then a catch-up
// read of a large existing log in bounded updates. Prints JSON.
// Usage: node --import tsx bench/live-follow.mjs [--rate 10000] [--seconds 5] [--catchup-mb 50]
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFollower } from '../src/core/logs/index.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const rate = arg('--rate', 10000),
  seconds = arg('--seconds', 5),
  catchupMb = arg('--catchup-mb', 50);
const dir = mkdtempSync(join(tmpdir(), 'fl-live-'));

/** The same byte-range reads as src/extension/logs/fileSource.ts for file: URIs. */
function source(path) {
  return {
    async size() {
      const h = await open(path, 'r');
      try {
        return (await h.stat()).size;
      } finally {
        await h.close();
      }
    },
    async read(start, end) {
      const h = await open(path, 'r');
      try {
        const out = new Uint8Array(end - start);
        const { bytesRead } = await h.read(out, 0, out.length, start);
        return out.subarray(0, bytesRead);
      } finally {
        await h.close();
      }
    },
  };
}

const loss = (s) =>
  (2 * Math.exp(-s / 5000) + 0.2) * (1 + 0.03 * Math.sin(s * 1.7)) * (s % 20000 >= 10000 && s % 20000 < 10005 ? 8 : 1);
const rows = (a, b) => {
  let t = '';
  for (let s = a; s < b; s++) t += `${s},0,${loss(s).toFixed(6)},${(1e-3).toFixed(6)}\n`;
  return t;
};

async function live() {
  const path = join(dir, 'metrics.csv');
  writeFileSync(path, 'step,epoch,train_loss,lr\n');
  const follower = new LogFollower('csv', { maxBytesPerUpdate: 512 * 1024 });
  const src = source(path);
  const perWrite = Math.round(rate / 10);
  let written = 0,
    seen = 0,
    maxLag = 0,
    spikes = 0;
  const syncMs = [];
  const t0 = performance.now();
  const writer = setInterval(() => {
    appendFileSync(path, rows(written, written + perWrite));
    written += perWrite;
  }, 100);
  while (performance.now() - t0 < seconds * 1000 || seen < written) {
    await new Promise((r) => setTimeout(r, 100));
    if (performance.now() - t0 >= seconds * 1000) clearInterval(writer);
    let behind = true;
    while (behind) {
      const a = performance.now();
      const u = await follower.sync(src);
      syncMs.push(performance.now() - a);
      seen += u.values.length;
      spikes += u.newSpikes.length;
      behind = u.behind;
    }
    maxLag = Math.max(maxLag, written - seen);
  }
  clearInterval(writer);
  syncMs.sort((x, y) => x - y);
  return {
    rate_points_per_s: rate,
    seconds,
    points: seen,
    written,
    spikes_found: spikes,
    spikes_injected: Math.max(0, Math.floor((written - 10020) / 20000) + 1),
    syncs: syncMs.length,
    sync_ms_p50: +syncMs[syncMs.length >> 1].toFixed(2),
    sync_ms_max: +syncMs[syncMs.length - 1].toFixed(2),
    max_lag_points: maxLag,
    cpu_fraction: +(syncMs.reduce((a, b) => a + b, 0) / (performance.now() - t0)).toFixed(3),
  };
}

async function catchUp() {
  const path = join(dir, 'big.csv');
  writeFileSync(path, 'step,epoch,train_loss,lr\n');
  let n = 0;
  while (n * 30 < catchupMb * 1e6) {
    appendFileSync(path, rows(n, n + 100000));
    n += 100000;
  }
  const follower = new LogFollower('csv', { maxBytesPerUpdate: 512 * 1024 });
  const src = source(path);
  let updates = 0,
    points = 0,
    maxUpdateMs = 0;
  const t0 = performance.now();
  for (let behind = true; behind; updates++) {
    await new Promise((r) => setImmediate(r));
    const a = performance.now();
    const u = await follower.sync(src);
    maxUpdateMs = Math.max(maxUpdateMs, performance.now() - a);
    points += u.values.length;
    behind = u.behind;
  }
  const s = (performance.now() - t0) / 1000;
  return {
    mb: +(follower.bytesRead / 1e6).toFixed(1),
    points,
    updates,
    seconds: +s.toFixed(2),
    points_per_s: Math.round(points / s),
    max_update_ms: +maxUpdateMs.toFixed(1),
  };
}

try {
  console.log(JSON.stringify({ live: await live(), catch_up: await catchUp() }, null, 1));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
