import type { Mat } from '../mat';
import type { Task } from '../data/dataset';

/** Targets as the kernel machine sees them: one-hot rows (classification) or one column (regression). */
export function targetMatrix(y: Float64Array, task: Task, nClasses: number): Mat {
  if (task === 'regression') return { rows: y.length, cols: 1, data: Float64Array.from(y) };
  const data = new Float64Array(y.length * nClasses);
  for (let i = 0; i < y.length; i++) if (y[i] >= 0) data[i * nClasses + y[i]] = 1;
  return { rows: y.length, cols: nClasses, data };
}

export function argmaxRows(p: Mat): Int32Array {
  const out = new Int32Array(p.rows);
  for (let i = 0; i < p.rows; i++) {
    let best = 0;
    for (let c = 1; c < p.cols; c++) if (p.data[i * p.cols + c] > p.data[i * p.cols + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** metric = accuracy (classification) or R^2 (regression); mse over all outputs (one-hot for classification). */
export function evaluate(pred: Mat, y: Float64Array, task: Task): { metric: number; mse: number } {
  const target = targetMatrix(y, task, pred.cols);
  let se = 0;
  for (let i = 0; i < pred.data.length; i++) se += (pred.data[i] - target.data[i]) ** 2;
  const mse = se / pred.data.length;
  if (task === 'classification') {
    const lab = argmaxRows(pred);
    let hit = 0;
    for (let i = 0; i < y.length; i++) if (lab[i] === y[i]) hit++;
    return { metric: hit / y.length, mse };
  }
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  let ss = 0;
  for (const v of y) ss += (v - mean) ** 2;
  return { metric: ss > 0 ? 1 - se / ss : se === 0 ? 1 : 0, mse };
}
