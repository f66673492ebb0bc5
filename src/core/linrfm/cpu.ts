// The float64 CPU oracle of lin-RFM matrix completion (docs/science.md §8): one LinRfmBackend iteration in
// plain loops. The WebGPU backend is tested against it.
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky';
import { Pacer, type PaceOptions } from '../pacer';
import type { LinRfmBackend, LinRfmPRule, LinRfmProblem, LinRfmStep } from './backend';

/**
 * Solves (P_{O,O} + reg I) a = y_O for one row by Cholesky. P is PSD, so the system is positive definite
 * for reg > 0; when rounding makes a pivot non-positive, the ridge grows by 1e-12 x the largest diagonal
 * entry, tenfold per retry (stated so a tiny reg cannot stop a run). Returns a (overwrites `sys`).
 */
export function ridgeSolveRow(
  P: Float64Array,
  d: number,
  cols: Int32Array,
  y: Float64Array,
  reg: number,
  sys: Float64Array,
): Float64Array {
  const k = cols.length;
  let extra = 0;
  let maxDiag = 0;
  for (let a = 0; a < k; a++) maxDiag = Math.max(maxDiag, Math.abs(P[cols[a] * d + cols[a]]));
  for (let attempt = 0; ; attempt++) {
    for (let a = 0; a < k; a++) {
      const ra = cols[a] * d;
      for (let b = 0; b <= a; b++) sys[a * k + b] = P[ra + cols[b]];
      sys[a * k + a] += reg + extra;
    }
    if (choleskyInPlace(sys, k)) break;
    if (attempt >= 12) throw new Error(`linrfm: ridge system of ${k} columns is not positive definite`);
    extra = extra ? extra * 10 : 1e-12 * Math.max(maxDiag, 1);
  }
  const sol = Float64Array.from(y);
  choleskySolveInPlace(sys, k, sol, 1);
  return sol;
}

/** Adds row i of the m x d row-major W to the upper triangle of the running sum WᵀW. */
function addRowToGram(G: Float64Array, W: Float64Array, d: number, i: number): void {
  const r = i * d;
  for (let j = 0; j < d; j++) {
    const wj = W[r + j];
    if (wj === 0) continue;
    const gj = j * d;
    for (let k = j; k < d; k++) G[gj + k] += wj * W[r + k];
  }
}

/** Scales the upper triangle by 1/m and mirrors it. */
function finishGram(G: Float64Array, m: number, d: number): Float64Array {
  const inv = m > 0 ? 1 / m : 0;
  for (let j = 0; j < d; j++)
    for (let k = j; k < d; k++) {
      const v = G[j * d + k] * inv;
      G[j * d + k] = v;
      G[k * d + j] = v;
    }
  return G;
}

/** G = WᵀW / m (d x d, symmetric, row-major) of an m x d row-major W. */
export function gramOverRows(W: Float64Array, m: number, d: number): Float64Array {
  const G = new Float64Array(d * d);
  for (let i = 0; i < m; i++) addRowToGram(G, W, d, i);
  return finishGram(G, m, d);
}

/** Row i of A·A for a symmetric d x d A, written to row and column i from the diagonal on. */
function symSquareRow(A: Float64Array, d: number, i: number, out: Float64Array): void {
  for (let j = i; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += A[i * d + k] * A[j * d + k];
    out[i * d + j] = s;
    out[j * d + i] = s;
  }
}

/** A·A for a symmetric d x d A (the result is symmetric). */
export function symSquare(A: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) symSquareRow(A, d, i, out);
  return out;
}

/**
 * The float64 CPU backend: exactly the layout and steps of backend.ts, one row after the other. With
 * `pace`, a long iteration hands the event loop back every few milliseconds (the extension host runs it:
 * one iteration of a 1000 x 1000 matrix is seconds of work); without, it runs straight through.
 */
export class CpuLinRfmBackend implements LinRfmBackend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  constructor(private readonly pace?: PaceOptions) {}
  /** A fresh pacer per call (or none): yields about every sliceMs of work, checked once per row. */
  private pacer(): Pacer | null {
    return this.pace ? new Pacer({ ...this.pace, clockEvery: 1 }) : null;
  }
  private problem?: LinRfmProblem;
  private P: Float64Array = new Float64Array(0);
  private W = new Float64Array(0);
  private G: Float64Array = new Float64Array(0);
  private best = new Float64Array(0);

  private need(): LinRfmProblem {
    if (!this.problem) throw new Error('linrfm cpu backend: setProblem first');
    return this.problem;
  }

  async setProblem(problem: LinRfmProblem): Promise<void> {
    const { rows: m, cols: d } = problem;
    this.problem = problem;
    this.P = new Float64Array(d * d);
    this.W = new Float64Array(m * d);
    this.G = new Float64Array(d * d);
    this.best = new Float64Array(m * d);
    return Promise.resolve();
  }

  async setP(P: Float64Array): Promise<void> {
    const { cols: d } = this.need();
    if (P.length !== d * d) throw new Error(`linrfm cpu backend: P must hold ${d * d} values, got ${P.length}`);
    this.P = Float64Array.from(P);
    return Promise.resolve();
  }

  async iterate(reg: number): Promise<LinRfmStep> {
    const { rows: m, cols: d, train, validation } = this.need();
    const { P, W } = this;
    let maxK = 0;
    for (let i = 0; i < m; i++) maxK = Math.max(maxK, train.rowPtr[i + 1] - train.rowPtr[i]);
    const sys = new Float64Array(maxK * maxK);
    let trainSse = 0;
    W.fill(0);
    const pacer = this.pacer();
    for (let i = 0; i < m; i++) {
      await pacer?.tick();
      const lo = train.rowPtr[i];
      const hi = train.rowPtr[i + 1];
      if (hi === lo) continue;
      const cols = train.colIdx.subarray(lo, hi);
      const y = train.values.subarray(lo, hi);
      const a = ridgeSolveRow(P, d, cols, y, reg, sys);
      const w = W.subarray(i * d, (i + 1) * d);
      for (let t = 0; t < cols.length; t++) {
        const at = a[t];
        const pr = cols[t] * d;
        for (let j = 0; j < d; j++) w[j] += at * P[pr + j];
      }
      for (let t = 0; t < cols.length; t++) {
        const e = w[cols[t]] - y[t];
        trainSse += e * e;
        w[cols[t]] = y[t];
      }
    }
    let validationSse = 0;
    for (let i = 0; i < m; i++)
      for (let t = validation.rowPtr[i]; t < validation.rowPtr[i + 1]; t++) {
        const e = W[i * d + validation.colIdx[t]] - validation.values[t];
        validationSse += e * e;
      }
    const G = new Float64Array(d * d);
    for (let i = 0; i < m; i++) {
      await pacer?.tick();
      addRowToGram(G, W, d, i);
    }
    this.G = finishGram(G, m, d);
    return { trainSse, validationSse };
  }

  async updateP(rule: LinRfmPRule): Promise<void> {
    const { cols: d } = this.need();
    if (rule === 'gram') {
      this.P = Float64Array.from(this.G);
      return;
    }
    const P = new Float64Array(d * d);
    const pacer = this.pacer();
    for (let i = 0; i < d; i++) {
      await pacer?.tick();
      symSquareRow(this.G, d, i, P);
    }
    this.P = P;
  }

  async readGram(): Promise<Float64Array> {
    return Promise.resolve(Float64Array.from(this.G));
  }

  async keepBest(): Promise<void> {
    this.best.set(this.W);
    return Promise.resolve();
  }

  async readCompleted(which: 'current' | 'best'): Promise<Float64Array> {
    return Promise.resolve(Float64Array.from(which === 'best' ? this.best : this.W));
  }

  dispose(): void {
    this.problem = undefined;
  }
}
