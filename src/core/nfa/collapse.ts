// Neural collapse layer by layer in a trained network (docs/science.md §7): NC1/NC2 of the data itself and
// of each hidden layer's post-activation features, on the training rows and separately on held-out rows,
// plus how much within-class variability each weight matrix's top right singular directions keep.
// The forward pass runs on an NfaBackend (features / convFeatures) placed by core/compute.ts (feature
// 'collapse'); the metrics (core/collapse/metrics.ts) are float64 on the host.
import { planPlacements, runPlaced, type BackendChoice, type Placement } from '../compute';
import { collapseMetrics, meanProjection2d, type CollapseMetrics } from '../collapse/metrics';
import { CancelledError, InputError } from '../errors';
import { eighSym } from '../linalg/eigh';
import { MAX_CELLS } from '../limits';
import { mat, type Mat } from '../mat';
import type { NfaBackend } from './backend';
import { isConvNet, size3, type ConvNet } from './convnet';
import type { Mlp } from './network';

/** Rows with their class indices 0..K-1 (the train set's classes; -1 marks a label the train set does not have). */
export interface LabelledRows {
  X: Mat;
  labels: Int32Array;
}

export interface CollapseInput {
  net: Mlp | ConvNet;
  /** Class names, K = classes.length >= 2. */
  classes: readonly string[];
  train: LabelledRows;
  /** Held-out rows (same columns, labels in the train set's classes), or none. */
  test?: LabelledRows | null;
}

/** An AbortSignal (core has no DOM or Node types: the part of it read here). */
export interface AbortLike {
  readonly aborted: boolean;
}

export type HostPlacement = Extract<Placement, 'host-gpu' | 'host-cpu'>;

/** How the forward pass computes on this surface: the NfaBackend of a host placement. */
export interface CollapseCompute {
  choice: BackendChoice;
  backend(placement: HostPlacement): Promise<NfaBackend>;
  /** How notes name the host surface (default the extension host). */
  host?: string;
  onFallback?(from: Placement, error: Error, next: Placement | undefined): void;
}

/**
 * The share of within-class variability a weight matrix W (out x in) keeps in its top-k right singular
 * directions V_k, on the features h it is applied to (its layer's input, training rows):
 *   share = tr(P Sigma_W) / tr(Sigma_W),  P = V_k V_k^T,  Sigma_W the within-class covariance of h,
 * so 1 - share is the part of the within-class scatter that P removes. k = min(K, rank W) with K the
 * number of classes: collapsed features live in the (K-1)-dimensional span of the centred class means
 * plus the global mean direction, so K directions are all a collapsing layer needs to keep; the rank is
 * counted as the singular values above 1e-6 of the largest (squared, 1e-12 of the top eigenvalue of
 * W^T W: well above the Gram's rounding, ~1e-16 of it). A share well below k / in means W's
 * dominant input directions discard within-class variation (the mechanism of Beaglehole et al. 2024).
 * The ratio of between-class scatter kept, tr(P Sigma_B) / tr(Sigma_B), is reported alongside: a layer
 * that collapses keeps the between-class scatter while dropping the within-class one.
 */
export interface SingularShare {
  /** Weight tensor name. */
  weight: string;
  k: number;
  /** tr(P Sigma_W) / tr(Sigma_W): within-class variability kept (the removed share is 1 - this). */
  withinKept: number;
  /** tr(P Sigma_B) / tr(Sigma_B). */
  betweenKept: number;
}

export interface CollapseLayer {
  /** The weight tensor of the layer whose activation these features are (e.g. `0.weight`). */
  name: string;
  kind: 'dense' | 'conv';
  /** Feature dimension (a conv layer's flattened C x H x W after activation and pooling). */
  width: number;
  train: CollapseMetrics;
  /** Held-out rows' metrics over the classes they contain, or null without held-out rows. */
  test: CollapseMetrics | null;
  /** Train class means on their top-2 principal directions (K x 2). */
  means2d: Float64Array;
  /** The layer's weight on its input features (dense layers; null for conv layers). */
  singular: SingularShare | null;
}

export interface CollapseResult {
  classes: string[];
  rows: number;
  testRows: number;
  /** Held-out classes present (indices into classes), when held-out rows were given. */
  testClasses: number[] | null;
  input: { train: CollapseMetrics; test: CollapseMetrics | null; means2d: Float64Array };
  layers: CollapseLayer[];
  /** The last (output) layer's singular share on the last hidden features (dense networks). */
  output: SingularShare | null;
  backend: string;
  device: string;
  /** Where it ran when that was not the first choice, else null. */
  note: string | null;
}

export interface CollapseHooks {
  signal?: AbortLike;
  /** Each hidden layer as it is measured (index 0 is the first hidden layer). */
  onLayer?(layer: CollapseLayer, index: number, total: number): void;
}

/** Relative cutoff on the eigenvalues of W^T W (squared singular values) for the rank of W in SingularShare. */
const RANK_CUTOFF = 1e-12;

function checkAbort(signal: AbortLike | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Feature widths of the hidden layers (dense: outDim; conv: the flattened output after activation and pooling). */
function hiddenWidths(net: Mlp | ConvNet): number[] {
  const layers = net.layers.slice(0, -1);
  return isConvNet(net)
    ? (layers as ConvNet['layers']).map((l) => size3(l.nextShape))
    : (layers as Mlp['layers']).map((l) => l.outDim);
}

/** Each hidden layer's features at the rows of X, computed in row chunks on `backend`. */
export async function hiddenFeatures(
  net: Mlp | ConvNet,
  X: Mat,
  backend: NfaBackend,
  signal?: AbortLike,
): Promise<Float64Array[]> {
  const widths = hiddenWidths(net);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = widths.map((w) => new Float64Array(X.rows * w));
  if (!widths.length) return out;
  const chunk = Math.max(1, Math.floor(4_000_000 / total));
  for (let r0 = 0; r0 < X.rows; r0 += chunk) {
    checkAbort(signal);
    const r1 = Math.min(X.rows, r0 + chunk);
    const part = mat(r1 - r0, X.cols, X.data.subarray(r0 * X.cols, r1 * X.cols));
    const f = isConvNet(net) ? await backend.convFeatures(net, part) : await backend.features(net, part);
    f.forEach((h, l) => out[l].set(h, r0 * widths[l]));
  }
  return out;
}

/**
 * Metrics over the classes the rows contain (held-out data may miss a class): labels -1 (a class the
 * train set does not have) are dropped, the present classes renumbered 0..K'-1 in their order.
 */
function metricsOnPresent(
  H: Float64Array,
  d: number,
  rows: LabelledRows,
  K: number,
): { metrics: CollapseMetrics; present: number[] } {
  const seen = new Int32Array(K);
  for (const c of rows.labels) if (c >= 0 && c < K) seen[c]++;
  const present = [...seen.keys()].filter((c) => seen[c] > 0);
  if (present.length < 2)
    throw new InputError(
      `neural collapse: the held-out rows hold ${present.length} of the ${K} classes; their metrics need at least 2. Give held-out rows of several classes, or none`,
    );
  if (present.length === K && !rows.labels.some((c) => c < 0 || c >= K))
    return { metrics: collapseMetrics(H, rows.X.rows, d, rows.labels, K), present };
  const remap = new Int32Array(K).fill(-1);
  present.forEach((c, i) => (remap[c] = i));
  const keep: number[] = [];
  rows.labels.forEach((c, i) => {
    if (c >= 0 && c < K) keep.push(i);
  });
  const Hs = new Float64Array(keep.length * d);
  const ls = new Int32Array(keep.length);
  keep.forEach((i, r) => {
    Hs.set(H.subarray(i * d, i * d + d), r * d);
    ls[r] = remap[rows.labels[i]];
  });
  return { metrics: collapseMetrics(Hs, keep.length, d, ls, present.length), present };
}

/** Top-k right singular vectors of W (out x in) with k = min(K, numerical rank): columns of an in x k matrix. */
function topRightSingular(W: Float64Array, out: number, inDim: number, K: number): Float64Array[] {
  // Eigenvectors of the smaller Gram: W^T W (in x in) directly, or W W^T (out x out) mapped by W^T u / sigma.
  const viaRows = out < inDim;
  const n = viaRows ? out : inDim;
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = a; b < n; b++) {
      let s = 0;
      if (viaRows) for (let j = 0; j < inDim; j++) s += W[a * inDim + j] * W[b * inDim + j];
      else for (let r = 0; r < out; r++) s += W[r * inDim + a] * W[r * inDim + b];
      G[a * n + b] = s;
      G[b * n + a] = s;
    }
  const { values, vectors } = eighSym(G, n);
  const top = Math.max(values[0], 0);
  const vs: Float64Array[] = [];
  for (let q = 0; q < n && vs.length < K; q++) {
    if (!(values[q] > top * RANK_CUTOFF) || values[q] <= 0) break;
    const v = new Float64Array(inDim);
    if (viaRows) {
      const sigma = Math.sqrt(values[q]);
      for (let r = 0; r < out; r++) {
        const u = vectors[r * n + q] / sigma;
        for (let j = 0; j < inDim; j++) v[j] += u * W[r * inDim + j];
      }
    } else for (let j = 0; j < inDim; j++) v[j] = vectors[j * n + q];
    vs.push(v);
  }
  return vs;
}

/** SingularShare of W on features H (n x d, d = in) with labels 0..K-1 and their class means. */
export function singularShare(
  weight: string,
  W: Float64Array,
  out: number,
  H: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  means: CollapseMetrics,
  K: number,
): SingularShare {
  const V = topRightSingular(W, out, d, K);
  const mu = means.classMeans;
  const global = new Float64Array(d);
  for (let c = 0; c < K; c++) for (let j = 0; j < d; j++) global[j] += (means.counts[c] * mu[c * d + j]) / n;
  let trW = 0,
    keptW = 0;
  const r = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = labels[i] * d;
    for (let j = 0; j < d; j++) {
      r[j] = H[i * d + j] - mu[o + j];
      trW += r[j] * r[j];
    }
    for (const v of V) {
      let p = 0;
      for (let j = 0; j < d; j++) p += r[j] * v[j];
      keptW += p * p;
    }
  }
  let trB = 0,
    keptB = 0;
  for (let c = 0; c < K; c++) {
    for (let j = 0; j < d; j++) {
      r[j] = mu[c * d + j] - global[j];
      trB += r[j] * r[j];
    }
    for (const v of V) {
      let p = 0;
      for (let j = 0; j < d; j++) p += r[j] * v[j];
      keptB += p * p;
    }
  }
  return { weight, k: V.length, withinKept: trW > 0 ? keptW / trW : NaN, betweenKept: trB > 0 ? keptB / trB : NaN };
}

/**
 * The collapse study: NC metrics of the inputs and of every hidden layer's activations, on the training
 * rows and (separately) the held-out rows; each dense weight's SingularShare on its input. The forward
 * pass runs on the compute's placements in order (a device failure continues on the next one).
 */
export async function collapseStudy(
  input: CollapseInput,
  compute: CollapseCompute,
  hooks: CollapseHooks = {},
): Promise<CollapseResult> {
  const { net, classes, train } = input;
  const test = input.test ?? null;
  const K = classes.length;
  if (K < 2)
    throw new InputError(`neural collapse needs a classification target with at least 2 classes; the target has ${K}`);
  const widths = hiddenWidths(net);
  const cells = (train.X.rows + (test?.X.rows ?? 0)) * widths.reduce((a, b) => a + b, 0);
  if (cells > MAX_CELLS)
    throw new InputError(
      `neural collapse: ${train.X.rows + (test?.X.rows ?? 0)} rows x ${widths.reduce((a, b) => a + b, 0)} hidden features = ${cells} values exceeds the limit of ${MAX_CELLS} (MAX_CELLS, 1 GiB of float64); use fewer rows (a subsample of the data)`,
    );
  checkAbort(hooks.signal);
  const plan = planPlacements('collapse', compute.choice, { page: false }).filter(
    (p): p is HostPlacement => p === 'host-gpu' || p === 'host-cpu',
  );
  const placed = await runPlaced(
    plan,
    async (p) => {
      const backend = await compute.backend(p as HostPlacement);
      try {
        const trainF = await hiddenFeatures(net, train.X, backend, hooks.signal);
        const testF = test ? await hiddenFeatures(net, test.X, backend, hooks.signal) : null;
        return { trainF, testF, backend: backend.name, device: backend.device };
      } finally {
        backend.dispose();
      }
    },
    { host: compute.host, onFallback: compute.onFallback },
  );
  const { trainF, testF } = placed.value;
  const n = train.X.rows;
  const d0 = train.X.cols;
  const inputTrain = collapseMetrics(train.X.data, n, d0, train.labels, K);
  const inputTest = test ? metricsOnPresent(test.X.data, d0, test, K) : null;
  const dense = !isConvNet(net);
  const layers: CollapseLayer[] = [];
  let prevH = train.X.data,
    prevD = d0,
    prevM = inputTrain;
  for (let l = 0; l < widths.length; l++) {
    checkAbort(hooks.signal);
    const layer = net.layers[l];
    const d = widths[l];
    const m = collapseMetrics(trainF[l], n, d, train.labels, K);
    const singular = dense
      ? singularShare(
          layer.name,
          layer.W,
          (layer as Mlp['layers'][number]).outDim,
          prevH,
          n,
          prevD,
          train.labels,
          prevM,
          K,
        )
      : null;
    const result: CollapseLayer = {
      name: layer.name,
      kind: isConvNet(net) ? (net.layers[l].kind === 'conv' ? 'conv' : 'dense') : 'dense',
      width: d,
      train: m,
      test: testF && test ? metricsOnPresent(testF[l], d, test, K).metrics : null,
      means2d: meanProjection2d(m.classMeans, K, d),
      singular,
    };
    layers.push(result);
    hooks.onLayer?.(result, l, widths.length);
    prevH = trainF[l];
    prevD = d;
    prevM = m;
  }
  const last = net.layers[net.layers.length - 1];
  const output = dense
    ? singularShare(last.name, last.W, (last as Mlp['layers'][number]).outDim, prevH, n, prevD, train.labels, prevM, K)
    : null;
  return {
    classes: [...classes],
    rows: n,
    testRows: test?.X.rows ?? 0,
    testClasses: inputTest ? inputTest.present : null,
    input: {
      train: inputTrain,
      test: inputTest?.metrics ?? null,
      means2d: meanProjection2d(inputTrain.classMeans, K, d0),
    },
    layers,
    output,
    backend: placed.value.backend,
    device: placed.value.device,
    note: placed.placement === plan[0] ? null : placed.reason,
  };
}

/** A number for JSON: non-finite (NC1 with equal class means) becomes null. */
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

function metricsJson(m: CollapseMetrics) {
  return { nc1: num(m.nc1), nc1_classic: num(m.nc1Classic), nc2: num(m.nc2) };
}

function shareJson(s: SingularShare | null) {
  return s
    ? {
        weight: s.weight,
        k: s.k,
        within_kept: num(s.withinKept),
        within_removed: num(1 - s.withinKept),
        between_kept: num(s.betweenKept),
      }
    : null;
}

const pairs = (a: Float64Array): [number, number][] =>
  Array.from({ length: a.length / 2 }, (_, i) => [a[2 * i], a[2 * i + 1]]);

/**
 * The `collapse` JSON report (snake_case): {classes, layers: [{name, nc1, nc1_classic, nc2, test, ...}],
 * input: {nc1, nc1_classic, nc2, test}, ...}; `test` is null without held-out rows. Non-finite numbers are null.
 */
export function collapseReport(r: CollapseResult, meta: Record<string, unknown> = {}) {
  return {
    ...meta,
    classes: r.classes,
    rows: r.rows,
    test_rows: r.testRows,
    test_classes: r.testClasses ? r.testClasses.map((c) => r.classes[c]) : null,
    backend: r.backend,
    device: r.device,
    input: {
      ...metricsJson(r.input.train),
      test: r.input.test ? metricsJson(r.input.test) : null,
      counts: [...r.input.train.counts],
      class_means_2d: pairs(r.input.means2d),
    },
    layers: r.layers.map((l) => ({
      name: l.name,
      kind: l.kind,
      width: l.width,
      ...metricsJson(l.train),
      test: l.test ? metricsJson(l.test) : null,
      wsv: shareJson(l.singular),
      class_means_2d: pairs(l.means2d),
    })),
    output_wsv: shareJson(r.output),
  };
}
