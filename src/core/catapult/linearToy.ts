import { normal, rng } from '../random';
import { classifyPhase, type Phase } from './phase';

/**
 * The two-layer linear toy model of docs/science.md §3: f = v^T u x / sqrt(m) with u, v in R^m and one
 * input x with |x| = 1 (so x = 1), loss (f - y)^2 / 2, NTK lambda = (|u|^2 + |v|^2) / m.
 */

export interface ToyState {
  readonly f: number;
  readonly lambda: number;
}

/**
 * The exact scalar recursion of one GD step (docs/science.md §3):
 * e' = e (1 - eta lambda + eta^2 e f / m), lambda' = lambda + (eta e / m)(eta e lambda - 4 f).
 */
export function toyStep(s: ToyState, y: number, eta: number, m: number): ToyState {
  const e = s.f - y;
  const e2 = e * (1 - eta * s.lambda + (eta * eta * e * s.f) / m);
  const lambda = s.lambda + ((eta * e) / m) * (eta * e * s.lambda - 4 * s.f);
  return { f: y + e2, lambda };
}

export interface ToyTrajectory {
  /** Loss (f - y)^2 / 2 before step t, t = 0..steps (fewer if it overflowed). */
  readonly losses: number[];
  /** lambda before step t. */
  readonly lambdas: number[];
}

/** Losses past this are a divergence already: stop before Infinity - Infinity makes NaN noise. */
const OVERFLOW = 1e150;

export function toyRecursion(start: ToyState, y: number, eta: number, m: number, steps: number): ToyTrajectory {
  const losses: number[] = [];
  const lambdas: number[] = [];
  let s = start;
  for (let t = 0; t <= steps; t++) {
    const L = 0.5 * (s.f - y) ** 2;
    losses.push(L);
    lambdas.push(s.lambda);
    if (!(L < OVERFLOW) || t === steps) break;
    s = toyStep(s, y, eta, m);
  }
  return { losses, lambdas };
}

export interface LinearToyConfig {
  width: number;
  /** eta = lrFactor / lambda_0. */
  lrFactor: number;
  steps: number;
  y: number;
  seed: number;
}

export const DEFAULT_LINEAR_TOY: LinearToyConfig = { width: 1000, lrFactor: 3, steps: 100, y: 0, seed: 0 };

export interface LinearToyRun {
  readonly lambda0: number;
  readonly lr: number;
  readonly losses: number[];
  readonly lambdas: number[];
  readonly phase: Phase;
  /** lambda at the end against the stability edge 2 / eta. */
  readonly finalLambda: number;
  readonly edge: number;
}

/**
 * Trains the toy model by plain GD on the weight vectors (u, v ~ N(0, 1) entries, seeded); the
 * scalar recursion above must reproduce it exactly (tested).
 */
export function trainLinearToy(config: Partial<LinearToyConfig> = {}): LinearToyRun {
  const c = { ...DEFAULT_LINEAR_TOY, ...config };
  const m = c.width;
  const draw = normal(rng(c.seed));
  const u = new Float64Array(m),
    v = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    u[i] = draw();
    v[i] = draw();
  }
  const sqrtM = Math.sqrt(m);
  const state = () => {
    let uv = 0,
      uu = 0,
      vv = 0;
    for (let i = 0; i < m; i++) {
      uv += u[i] * v[i];
      uu += u[i] * u[i];
      vv += v[i] * v[i];
    }
    return { f: uv / sqrtM, lambda: (uu + vv) / m };
  };
  const s0 = state();
  const eta = c.lrFactor / s0.lambda;
  const losses: number[] = [];
  const lambdas: number[] = [];
  for (let t = 0; t <= c.steps; t++) {
    const s = t === 0 ? s0 : state();
    const e = s.f - c.y;
    const L = 0.5 * e * e;
    losses.push(L);
    lambdas.push(s.lambda);
    if (!(L < OVERFLOW) || t === c.steps) break;
    // df/du = v / sqrt(m), df/dv = u / sqrt(m); update both from the old weights
    const g = (eta * e) / sqrtM;
    for (let i = 0; i < m; i++) {
      const ui = u[i];
      u[i] = ui - g * v[i];
      v[i] -= g * ui;
    }
  }
  const finalLambda = lambdas[lambdas.length - 1];
  return { lambda0: s0.lambda, lr: eta, losses, lambdas, phase: classifyPhase(losses), finalLambda, edge: 2 / eta };
}

/** The toy's initial state for a seed, as trainLinearToy draws it (for comparing with toyRecursion). */
export function linearToyInit(width: number, seed: number): ToyState {
  const draw = normal(rng(seed));
  let uv = 0,
    uu = 0,
    vv = 0;
  for (let i = 0; i < width; i++) {
    const a = draw(),
      b = draw();
    uv += a * b;
    uu += a * a;
    vv += b * b;
  }
  return { f: uv / Math.sqrt(width), lambda: (uu + vv) / width };
}
