import type { CatapultBackend, ReluProblem, ReluSession } from './backend';

/** The float64 reference for the catapult lab. Work per call is O(n m d); nothing n x n is formed. */
export class CpuCatapultBackend implements CatapultBackend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  async createSession(p: ReluProblem): Promise<ReluSession> {
    return new CpuReluSession(p);
  }

  dispose(): void {}
}

class CpuReluSession implements ReluSession {
  private readonly n: number;
  private readonly d: number;
  private readonly m: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly W: Float64Array;
  private readonly a: Float64Array;
  private readonly scale: number;
  /** Pre-activations of one row (m), reused. */
  private readonly z: Float64Array;

  constructor(p: ReluProblem) {
    this.n = p.X.rows;
    this.d = p.X.cols;
    this.m = p.width;
    if (p.W.length !== this.m * this.d || p.a.length !== this.m || p.y.length !== this.n)
      throw new RangeError('catapult cpu: problem shapes disagree');
    this.x = p.X.data;
    this.y = p.y;
    this.W = p.W.slice();
    this.a = p.a.slice();
    this.scale = 1 / Math.sqrt(this.m);
    this.z = new Float64Array(this.m);
  }

  /** Fills this.z with W x_i and returns f(x_i). */
  private forwardRow(i: number): number {
    const { d, m, W, a, x, z } = this;
    const xo = i * d;
    let f = 0;
    for (let j = 0; j < m; j++) {
      let s = 0;
      const wo = j * d;
      for (let k = 0; k < d; k++) s += W[wo + k] * x[xo + k];
      z[j] = s;
      if (s > 0) f += a[j] * s;
    }
    return f * this.scale;
  }

  async residuals(): Promise<Float64Array> {
    const r = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) r[i] = this.forwardRow(i) - this.y[i];
    return r;
  }

  async step(lr: number, rows?: Uint32Array): Promise<void> {
    const { d, m, W, a, x, z, scale } = this;
    const idx = rows ?? Uint32Array.from({ length: this.n }, (_, i) => i);
    const gW = new Float64Array(m * d),
      ga = new Float64Array(m);
    for (const i of idx) {
      const e = this.forwardRow(i) - this.y[i];
      const xo = i * d;
      for (let j = 0; j < m; j++) {
        if (z[j] <= 0) continue;
        ga[j] += e * z[j] * scale;
        const c = e * a[j] * scale,
          wo = j * d;
        for (let k = 0; k < d; k++) gW[wo + k] += c * x[xo + k];
      }
    }
    const s = lr / idx.length;
    for (let q = 0; q < gW.length; q++) W[q] -= s * gW[q];
    for (let j = 0; j < m; j++) a[j] -= s * ga[j];
  }

  async ntkMatVec(v: Float64Array): Promise<Float64Array> {
    const { n, d, m, a, x, z, scale } = this;
    // u = J^T v, then (J u)_i / n
    const uW = new Float64Array(m * d),
      ua = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      this.forwardRow(i);
      const xo = i * d;
      for (let j = 0; j < m; j++) {
        if (z[j] <= 0) continue;
        ua[j] += v[i] * z[j] * scale;
        const c = v[i] * a[j] * scale,
          wo = j * d;
        for (let k = 0; k < d; k++) uW[wo + k] += c * x[xo + k];
      }
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.forwardRow(i);
      const xo = i * d;
      let s = 0;
      for (let j = 0; j < m; j++) {
        if (z[j] <= 0) continue;
        let wx = 0;
        const wo = j * d;
        for (let k = 0; k < d; k++) wx += uW[wo + k] * x[xo + k];
        s += ua[j] * z[j] + a[j] * wx;
      }
      out[i] = (s * scale) / n;
    }
    return out;
  }

  async agop(): Promise<Float64Array> {
    const { n, d, m, W, a, z, scale } = this;
    const G = new Float64Array(d * d);
    const g = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      this.forwardRow(i);
      g.fill(0);
      for (let j = 0; j < m; j++) {
        if (z[j] <= 0) continue;
        const c = a[j] * scale,
          wo = j * d;
        for (let k = 0; k < d; k++) g[k] += c * W[wo + k];
      }
      for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) G[r * d + c] += g[r] * g[c];
    }
    for (let q = 0; q < G.length; q++) G[q] /= n;
    return G;
  }

  async weights(): Promise<{ W: Float64Array; a: Float64Array }> {
    return { W: this.W.slice(), a: this.a.slice() };
  }

  dispose(): void {}
}
