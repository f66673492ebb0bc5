// Float64 conv-network kernels on the CPU (the oracle of the conv NFA, docs/science.md §6): forward pass and
// the per-layer patch-AGOP sums. For layer l with weights W_l (k x c kh kw) and z_l its convolution output,
// the gradient of output f_o with respect to the patch x_p through the convolution at p alone is
// W_l^T g_{o,p}, g_{o,p} = d f_o / d z_l[:, p] (k values). So
//   sum over images, outputs o and positions p of (W^T g)(W^T g)^T = W^T H W,  H = sum g g^T (k x k)
// and only H is accumulated during the backward pass; a dense layer is the case of one position.
import { mat, type Mat } from '../mat';
import { activate, activateDerivative } from './activation';
import { size3, type ConvNet, type NetLayer } from './convnet';

/** z = conv(a) + b for one image: a is c x h x w, z is k x ho x wo (row-major). */
export function convForwardImage(l: NetLayer, a: Float64Array, W: Float64Array = l.W): Float64Array {
  const [c, h, w] = l.inShape;
  const [k, ho, wo] = l.outShape;
  const { kh, kw, stride: s, padding: pad } = l;
  const out = new Float64Array(k * ho * wo);
  for (let kk = 0; kk < k; kk++) {
    const bias = l.b ? l.b[kk] : 0;
    const wk = kk * c * kh * kw;
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        let sum = bias;
        for (let cc = 0; cc < c; cc++)
          for (let u = 0; u < kh; u++) {
            const y = i * s + u - pad;
            if (y < 0 || y >= h) continue;
            const wrow = wk + (cc * kh + u) * kw;
            const arow = (cc * h + y) * w;
            for (let v = 0; v < kw; v++) {
              const x = j * s + v - pad;
              if (x < 0 || x >= w) continue;
              sum += W[wrow + v] * a[arow + x];
            }
          }
        out[(kk * ho + i) * wo + j] = sum;
      }
  }
  return out;
}

/** PyTorch pooling of a k x h x w map (padding 0, floor mode); max ties go to the first in the window. */
function poolForward(l: NetLayer, r: Float64Array): Float64Array {
  const pool = l.pool!;
  const [k, h, w] = l.outShape;
  const [, ph, pw] = l.nextShape;
  const out = new Float64Array(k * ph * pw);
  for (let kk = 0; kk < k; kk++)
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        let best = -Infinity,
          sum = 0;
        for (let u = 0; u < pool.size; u++)
          for (let v = 0; v < pool.size; v++) {
            const x = r[(kk * h + i * pool.stride + u) * w + j * pool.stride + v];
            if (x > best) best = x;
            sum += x;
          }
        out[(kk * ph + i) * pw + j] = pool.kind === 'max' ? best : sum / (pool.size * pool.size);
      }
  return out;
}

/** Gradient at the pool input from the gradient at its output (max: to the first maximum of each window). */
function poolBackward(l: NetLayer, r: Float64Array, gOut: Float64Array): Float64Array {
  const pool = l.pool!;
  const [k, h, w] = l.outShape;
  const [, ph, pw] = l.nextShape;
  const g = new Float64Array(k * h * w);
  const area = pool.size * pool.size;
  for (let kk = 0; kk < k; kk++)
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        const go = gOut[(kk * ph + i) * pw + j];
        if (go === 0) continue;
        if (pool.kind === 'avg') {
          for (let u = 0; u < pool.size; u++)
            for (let v = 0; v < pool.size; v++)
              g[(kk * h + i * pool.stride + u) * w + j * pool.stride + v] += go / area;
          continue;
        }
        let best = -Infinity,
          at = 0;
        for (let u = 0; u < pool.size; u++)
          for (let v = 0; v < pool.size; v++) {
            const idx = (kk * h + i * pool.stride + u) * w + j * pool.stride + v;
            if (r[idx] > best) {
              best = r[idx];
              at = idx;
            }
          }
        g[at] += go;
      }
  return g;
}

/** Gradient at the convolution's input from the gradient gz at its output (k x ho x wo). */
function convBackwardInput(l: NetLayer, gz: Float64Array): Float64Array {
  const [c, h, w] = l.inShape;
  const [k, ho, wo] = l.outShape;
  const { kh, kw, stride: s, padding: pad, W } = l;
  const g = new Float64Array(c * h * w);
  for (let kk = 0; kk < k; kk++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        const gv = gz[(kk * ho + i) * wo + j];
        if (gv === 0) continue;
        for (let cc = 0; cc < c; cc++)
          for (let u = 0; u < kh; u++) {
            const y = i * s + u - pad;
            if (y < 0 || y >= h) continue;
            const wrow = ((kk * c + cc) * kh + u) * kw;
            const grow = (cc * h + y) * w;
            for (let v = 0; v < kw; v++) {
              const x = j * s + v - pad;
              if (x >= 0 && x < w) g[grow + x] += gv * W[wrow + v];
            }
          }
      }
  return g;
}

interface ImageTrace {
  /** z[l]: convolution output of layer l. */
  z: Float64Array[];
  /** r[l]: act(z[l]) (z[l] itself for the last layer), the pool's input. */
  r: Float64Array[];
  /** a[l]: layer l's output, the next layer's input (r[l] pooled when the layer pools). */
  a: Float64Array[];
  out: Float64Array;
}

function traceImage(net: ConvNet, x: Float64Array): ImageTrace {
  const L = net.layers.length;
  const z: Float64Array[] = [],
    r: Float64Array[] = [],
    outs: Float64Array[] = [];
  let a = x;
  for (let l = 0; l < L; l++) {
    const layer = net.layers[l];
    const zl = convForwardImage(layer, a);
    let rl = zl;
    if (l < L - 1) {
      rl = new Float64Array(zl.length);
      for (let i = 0; i < zl.length; i++) rl[i] = activate(net.activation, zl[i]);
    }
    z.push(zl);
    r.push(rl);
    a = layer.pool ? poolForward(layer, rl) : rl;
    outs.push(a);
  }
  return { z, r, a: outs, out: a };
}

function checkInput(net: ConvNet, X: Mat): void {
  if (X.cols !== size3(net.input))
    throw new Error(`conv forward: X has ${X.cols} columns, the network takes ${net.input.join('x')} images`);
}

/** Network outputs (rows x flattened output of the last layer). */
export function convForwardCpu(net: ConvNet, X: Mat): Mat {
  checkInput(net, X);
  const outDim = size3(net.layers[net.layers.length - 1].nextShape);
  const out = new Float64Array(X.rows * outDim);
  for (let n = 0; n < X.rows; n++)
    out.set(traceImage(net, X.data.subarray(n * X.cols, (n + 1) * X.cols)).out, n * outDim);
  return mat(X.rows, outDim, out);
}

/** Each hidden layer's output (after the activation and its pooling; rows x its flattened C,H,W size). */
export function convFeaturesCpu(net: ConvNet, X: Mat): Float64Array[] {
  checkInput(net, X);
  const hidden = net.layers.slice(0, -1);
  const out = hidden.map((l) => new Float64Array(X.rows * size3(l.nextShape)));
  for (let n = 0; n < X.rows; n++) {
    const t = traceImage(net, X.data.subarray(n * X.cols, (n + 1) * X.cols));
    hidden.forEach((l, i) => out[i].set(t.a[i], n * t.a[i].length));
  }
  return out;
}

/**
 * Per layer l, H_l = sum over the rows of X, the outputs o and the positions p of g g^T with
 * g = d f_o / d z_l[:, p] (k_l x k_l, symmetric). patchAgopSumsCpu turns these into W^T H W.
 */
export function outputGradGramsCpu(net: ConvNet, X: Mat): Float64Array[] {
  checkInput(net, X);
  const L = net.layers.length;
  const H = net.layers.map((l) => new Float64Array(l.k * l.k));
  const last = net.layers[L - 1];
  const outDim = size3(last.nextShape);
  for (let n = 0; n < X.rows; n++) {
    const t = traceImage(net, X.data.subarray(n * X.cols, (n + 1) * X.cols));
    for (let o = 0; o < outDim; o++) {
      // Gradient of f_o at the last layer's (pooled) output, then back through the layers.
      let ga: Float64Array = new Float64Array(outDim);
      ga[o] = 1;
      for (let l = L - 1; l >= 0; l--) {
        const layer = net.layers[l];
        let gz: Float64Array = layer.pool ? poolBackward(layer, t.r[l], ga) : ga;
        if (l < L - 1) {
          if (gz === ga) gz = Float64Array.from(ga);
          const zl = t.z[l];
          for (let i = 0; i < gz.length; i++) if (gz[i] !== 0) gz[i] *= activateDerivative(net.activation, zl[i]);
        }
        accumulatePositionsGram(gz, layer.k, layer.outShape[1] * layer.outShape[2], H[l]);
        if (l > 0) ga = convBackwardInput(layer, gz);
      }
    }
  }
  for (let l = 0; l < L; l++) mirror(H[l], net.layers[l].k);
  return H;
}

/** Upper triangle of sum over positions p of g[:, p] g[:, p]^T for g (k x P). */
function accumulatePositionsGram(g: Float64Array, k: number, P: number, H: Float64Array): void {
  for (let a = 0; a < k; a++) {
    const ga = a * P;
    for (let b = a; b < k; b++) {
      const gb = b * P;
      let s = 0;
      for (let p = 0; p < P; p++) s += g[ga + p] * g[gb + p];
      H[a * k + b] += s;
    }
  }
}

function mirror(G: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) G[i * n + j] = G[j * n + i];
}

/** W^T H W for W (k x n) and symmetric H (k x k): n x n, symmetric. */
export function congruence(W: ArrayLike<number>, k: number, n: number, H: ArrayLike<number>): Float64Array {
  const HW = new Float64Array(k * n);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      const h = H[a * k + b];
      if (h === 0) continue;
      for (let j = 0; j < n; j++) HW[a * n + j] += h * W[b * n + j];
    }
  const G = new Float64Array(n * n);
  for (let a = 0; a < k; a++)
    for (let i = 0; i < n; i++) {
      const wi = W[a * n + i];
      if (wi === 0) continue;
      for (let j = i; j < n; j++) G[i * n + j] += wi * HW[a * n + j];
    }
  mirror(G, n);
  return G;
}
