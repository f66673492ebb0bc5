// Shared by the tree tests (test/unit/cli-tree.test.ts, test/slurm/tree.test.ts).
import { writeFileSync } from 'node:fs';
import { normal, rng } from '../../src/core/random';

/** The xRFM regression setting as a CSV (X ~ N(0, I), y = 1{x0 > 0} + 1{x1 < 0.5}; 6 decimals). */
export function xrfmCsv(path: string, n: number, d: number, seed: number): void {
  const g = normal(rng(seed));
  const rows = [[...Array(d).keys()].map((j) => `x${j}`).join(',') + ',y'];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: d }, () => g());
    rows.push([...x.map((v) => v.toFixed(6)), (x[0] > 0 ? 1 : 0) + (x[1] < 0.5 ? 1 : 0)].join(','));
  }
  writeFileSync(path, rows.join('\n') + '\n');
}

/** A report with its timings zeroed (the only fields two runs may differ in). */
export const untimed = (text: string): unknown =>
  JSON.parse(text, (k, v) => (k === 'seconds' || k === 'phases' ? 0 : (v as unknown)));
