// Float64 MLP kernels on the CPU: forward pass, input-Jacobian AGOP accumulation and loss gradients.
// Used by the CPU NFA backend (the reference every other backend is tested against) and the lab trainer.
import { mat, type Mat } from '../mat';
import { activate, activateDerivative } from './activation';
import type { Mlp } from './network';

export interface ForwardTrace {
  /** inputs[l]: input of layer l (B x inDim_l); inputs[0] is X. */
  readonly inputs: Float64Array[];
  /** pre[l]: pre-activation of layer l (B x outDim_l). */
  readonly pre: Float64Array[];
  /** Network output (B x outDim of the last layer). */
  readonly out: Mat;
}

/** out (R x n) = A (R x m) * B^T, B given as n x m (nn.Linear weight layout), plus bias. */
function linear(
  A: Float64Array,
  R: number,
  m: number,
  W: Float64Array,
  n: number,
  b: Float64Array | null,
): Float64Array {
  const out = new Float64Array(R * n);
  for (let r = 0; r < R; r++) {
    const a = r * m,
      o = r * n;
    for (let j = 0; j < n; j++) {
      let s = b ? b[j] : 0;
      const w = j * m;
      for (let k = 0; k < m; k++) s += A[a + k] * W[w + k];
      out[o + j] = s;
    }
  }
  return out;
}

export function forwardTrace(net: Mlp, X: Mat): ForwardTrace {
  if (X.cols !== net.layers[0].inDim)
    throw new Error(`forward: X has ${X.cols} columns, layer '${net.layers[0].name}' takes ${net.layers[0].inDim}`);
  const B = X.rows;
  const inputs: Float64Array[] = [X.data];
  const pre: Float64Array[] = [];
  let h = X.data;
  const L = net.layers.length;
  for (let l = 0; l < L; l++) {
    const layer = net.layers[l];
    const z = linear(h, B, layer.inDim, layer.W, layer.outDim, layer.b);
    pre.push(z);
    if (l < L - 1) {
      const a = new Float64Array(z.length);
      for (let i = 0; i < z.length; i++) a[i] = activate(net.activation, z[i]);
      inputs.push(a);
      h = a;
    } else {
      h = z;
    }
  }
  return { inputs, pre, out: mat(B, net.layers[L - 1].outDim, h) };
}

/** sum over rows r of J[r]^T J[r] into the upper triangle of G (n x n); J is R x n. */
function accumulateGram(J: Float64Array, R: number, n: number, G: Float64Array): void {
  for (let r = 0; r < R; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) {
      const ji = J[o + i];
      if (ji === 0) continue;
      const gi = i * n;
      for (let j = i; j < n; j++) G[gi + j] += ji * J[o + j];
    }
  }
}

function mirrorUpper(G: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) G[i * n + j] = G[j * n + i];
}

/** W^T H W for W (m x n, row-major) and symmetric H (m x m): n x n, upper triangle filled. */
function congruenceUpper(W: Float64Array, m: number, n: number, H: Float64Array, out: Float64Array): void {
  const HW = new Float64Array(m * n);
  for (let a = 0; a < m; a++) {
    const ha = a * m,
      o = a * n;
    for (let k = 0; k < m; k++) {
      const h = H[ha + k];
      if (h === 0) continue;
      const w = k * n;
      for (let j = 0; j < n; j++) HW[o + j] += h * W[w + j];
    }
  }
  for (let a = 0; a < m; a++) {
    const wa = a * n,
      o = a * n;
    for (let i = 0; i < n; i++) {
      const wi = W[wa + i];
      if (wi === 0) continue;
      const gi = i * n;
      for (let j = i; j < n; j++) out[gi + j] += wi * HW[o + j];
    }
  }
}

/**
 * For every layer l, sum over the rows x of X of J_l(x)^T J_l(x), where J_l = d(all outputs)/d(input of
 * layer l) (c x inDim_l). Back-propagates the stacked per-row Jacobians (B*c rows) through the layers:
 * J_l = V_l W_l with V_l = J_{l+1} * act'(z_l) (c x outDim_l per row), starting from J_{L-1} = W_{L-1}.
 * Since J_l^T J_l = W_l^T V_l^T V_l W_l, a layer that narrows (outDim < inDim, typically the first
 * layer on wide inputs) accumulates the smaller V^T V and applies W_l once per call, and the first
 * layer's Jacobian is then never formed.
 */
export function agopSumsCpu(net: Mlp, X: Mat): Float64Array[] {
  const L = net.layers.length;
  const B = X.rows;
  const c = net.layers[L - 1].outDim;
  const trace = forwardTrace(net, X);
  const sums: Float64Array[] = net.layers.map((l) => new Float64Array(l.inDim * l.inDim));
  const last = net.layers[L - 1];
  // J_{L-1} = W_{L-1} for every row: the sum is B W^T W.
  congruenceUpper(last.W, c, last.inDim, identityTimes(B, c), sums[L - 1]);
  if (L === 1) {
    mirrorUpper(sums[0], last.inDim);
    return sums;
  }
  let J: Float64Array = new Float64Array(B * c * last.inDim);
  for (let r = 0; r < B; r++) J.set(last.W, r * c * last.inDim);
  for (let l = L - 2; l >= 0; l--) {
    const layer = net.layers[l];
    const m = layer.outDim,
      n = layer.inDim;
    const z = trace.pre[l];
    const V = new Float64Array(B * c * m);
    for (let r = 0; r < B; r++) {
      for (let k = 0; k < m; k++) {
        const d = activateDerivative(net.activation, z[r * m + k]);
        for (let o = 0; o < c; o++) V[(r * c + o) * m + k] = J[(r * c + o) * m + k] * d;
      }
    }
    // Multiply-adds per call: direct = gram of J_l (+ forming J_l when l = 0); narrow = gram of V + W^T H W.
    const direct = (B * c * n * n) / 2 + (l === 0 ? B * c * m * n : 0);
    const narrow = (B * c * m * m) / 2 + m * m * n + m * n * n;
    const needJ = l > 0 || direct <= narrow;
    let next: Float64Array | null = null;
    if (needJ) {
      next = new Float64Array(B * c * n);
      for (let row = 0; row < B * c; row++) {
        const src = row * m,
          dst = row * n;
        for (let k = 0; k < m; k++) {
          const v = V[src + k];
          if (v === 0) continue;
          const w = k * n;
          for (let j = 0; j < n; j++) next[dst + j] += v * layer.W[w + j];
        }
      }
    }
    if (direct <= narrow && next) {
      accumulateGram(next, B * c, n, sums[l]);
    } else {
      const H = new Float64Array(m * m);
      accumulateGram(V, B * c, m, H);
      mirrorUpper(H, m);
      congruenceUpper(layer.W, m, n, H, sums[l]);
    }
    if (next) J = next;
  }
  for (let l = 0; l < L; l++) mirrorUpper(sums[l], net.layers[l].inDim);
  return sums;
}

/** s * I (k x k). */
function identityTimes(s: number, k: number): Float64Array {
  const I = new Float64Array(k * k);
  for (let i = 0; i < k; i++) I[i * k + i] = s;
  return I;
}

export interface LossAndGrads {
  /** Mean squared error over all B*c output entries (torch.nn.MSELoss). */
  loss: number;
  gradW: Float64Array[];
  gradB: Float64Array[];
}

/** MSE loss of the network on (X, Y) and its gradient with respect to every weight and bias. */
export function mseGradients(net: Mlp, X: Mat, Y: Mat): LossAndGrads {
  const trace = forwardTrace(net, X);
  const L = net.layers.length;
  const B = X.rows,
    c = Y.cols;
  const f = trace.out.data;
  let loss = 0;
  let delta = new Float64Array(B * c);
  const scale = 2 / (B * c);
  for (let i = 0; i < B * c; i++) {
    const e = f[i] - Y.data[i];
    loss += e * e;
    delta[i] = scale * e;
  }
  loss /= B * c;
  const gradW: Float64Array[] = new Array(L);
  const gradB: Float64Array[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const layer = net.layers[l];
    const m = layer.outDim,
      n = layer.inDim;
    const input = trace.inputs[l];
    const gW = new Float64Array(m * n);
    const gB = new Float64Array(m);
    for (let r = 0; r < B; r++) {
      for (let k = 0; k < m; k++) {
        const dk = delta[r * m + k];
        if (dk === 0) continue;
        gB[k] += dk;
        const w = k * n,
          a = r * n;
        for (let j = 0; j < n; j++) gW[w + j] += dk * input[a + j];
      }
    }
    gradW[l] = gW;
    // A layer without a bias has no bias parameters, so no gradient for them.
    gradB[l] = layer.b ? gB : new Float64Array(0);
    if (l > 0) {
      const z = trace.pre[l - 1];
      const prev = new Float64Array(B * n);
      for (let r = 0; r < B; r++) {
        for (let k = 0; k < m; k++) {
          const dk = delta[r * m + k];
          if (dk === 0) continue;
          const w = k * n,
            p = r * n;
          for (let j = 0; j < n; j++) prev[p + j] += dk * layer.W[w + j];
        }
        for (let j = 0; j < n; j++) prev[r * n + j] *= activateDerivative(net.activation, z[r * n + j]);
      }
      delta = prev;
    }
  }
  return { loss, gradW, gradB };
}
