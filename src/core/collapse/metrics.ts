// Neural-collapse metrics of one feature matrix (SCIENCE.md §7): NC1 (within- vs between-class
// variability, both the paper's trace ratio and the classic tr(Sigma_W Sigma_B^+)/K) and NC2 (distance
// of the normalised class-mean Gram from the simplex ETF). Pure float64 math shared by nfa's per-layer
// study and rfm's Deep RFM; it imports no feature.
import { InputError } from '../errors';
import { eighSym } from '../linalg/eigh';

export interface CollapseMetrics {
  /** tr(Sigma_W) / tr(Sigma_B) (the paper's code); Infinity when every class has the same mean and Sigma_W != 0. */
  nc1: number;
  /** tr(Sigma_W Sigma_B^+) / K, Sigma_B^+ the Moore-Penrose pseudo-inverse (see PINV_RELATIVE_CUTOFF). */
  nc1Classic: number;
  /** Mean over the K x K entries of (G_hat - E)^2; 0 for class means on a simplex ETF. */
  nc2: number;
  /** K x d row-major class means mu_c. */
  classMeans: Float64Array;
  /** Rows per class. */
  counts: Int32Array;
}

/**
 * Eigenvalues of Sigma_B at or below this fraction of its largest count as zero in Sigma_B^+. Sigma_B has
 * rank <= K - 1 (the centred means sum to zero with the class weights), and the null direction comes out
 * of the K x K Gram at ~1e-16 relative, so 1e-12 separates it with margin while keeping any genuine
 * direction with a singular value above 1e-6 of the largest.
 */
export const PINV_RELATIVE_CUTOFF = 1e-12;

/**
 * NC metrics of features H (n x d row-major) with labels in 0..K-1 (SCIENCE.md §7):
 *   mu_G = mean of all n rows; mu_c = mean of class c's rows;
 *   Sigma_B = (1/K) sum_c (mu_c - mu_G)(mu_c - mu_G)^T;  Sigma_W = (1/n) sum_i (h_i - mu_{c_i})(h_i - mu_{c_i})^T;
 *   nc1 = tr Sigma_W / tr Sigma_B;  nc1Classic = tr(Sigma_W Sigma_B^+) / K;
 *   nc2 = (1/K^2) sum_{c,c'} (G_hat - E)^2_{cc'}, G_hat_{cc'} = cosine of (mu_c - mu_G) and (mu_c' - mu_G),
 *   E = (1 + 1/(K-1)) I - 11^T/(K-1). A class mean equal to mu_G has no direction: its row and column of
 *   G_hat are taken as 0 (so it counts as maximally far from the ETF on the diagonal).
 * Sigma_B^+ is computed in the span of the K centred means: with C the K x d matrix of centred means,
 * Sigma_B = C^T C / K shares its nonzero eigenvalues with the K x K matrix C C^T / K = U L U^T, and its
 * unit eigenvectors are v_k = C^T u_k / sqrt(K l_k). Then tr(Sigma_W Sigma_B^+) = sum_k v_k^T Sigma_W v_k / l_k
 * with v_k^T Sigma_W v_k = (1/n) sum_i ((h_i - mu_{c_i}) . v_k)^2: O(n d K), no d x d matrix (d = 512 is cheap).
 * Throws InputError for K < 2, a label outside 0..K-1, a class with no rows, or a non-finite feature.
 */
export function collapseMetrics(H: Float64Array, n: number, d: number, labels: Int32Array, K: number): CollapseMetrics {
  if (!Number.isInteger(K) || K < 2)
    throw new InputError(
      `neural-collapse metrics need at least 2 classes; got ${K}. Use a classification target with 2 or more classes.`,
    );
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1 || H.length !== n * d)
    throw new Error(`collapseMetrics: H has ${H.length} entries, expected n x d = ${n} x ${d}`);
  if (labels.length !== n) throw new Error(`collapseMetrics: ${labels.length} labels for ${n} rows`);
  const counts = new Int32Array(K);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (c < 0 || c >= K)
      throw new InputError(
        `neural-collapse metrics: row ${i + 1} has class index ${c}, expected 0..${K - 1}. Check the target column's labels.`,
      );
    counts[c]++;
  }
  for (let c = 0; c < K; c++)
    if (counts[c] === 0)
      throw new InputError(
        `neural-collapse metrics: class ${c} (of ${K}) has no rows; every class needs at least one row. Drop the empty class or add rows of it.`,
      );
  for (let i = 0; i < n * d; i++)
    if (!Number.isFinite(H[i]))
      throw new InputError(
        `neural-collapse metrics: feature row ${Math.floor(i / d) + 1}, column ${(i % d) + 1} is ${H[i]}; features must be finite (a diverged network or an unscaled input?).`,
      );

  const classMeans = new Float64Array(K * d);
  const global = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = labels[i] * d;
    for (let j = 0; j < d; j++) {
      classMeans[o + j] += H[i * d + j];
      global[j] += H[i * d + j];
    }
  }
  for (let c = 0; c < K; c++) for (let j = 0; j < d; j++) classMeans[c * d + j] /= counts[c];
  for (let j = 0; j < d; j++) global[j] /= n;

  // Centred means C (K x d) and their Gram C C^T / K.
  const C = new Float64Array(K * d);
  for (let c = 0; c < K; c++) for (let j = 0; j < d; j++) C[c * d + j] = classMeans[c * d + j] - global[j];
  const gram = new Float64Array(K * K);
  for (let a = 0; a < K; a++)
    for (let b = a; b < K; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += C[a * d + j] * C[b * d + j];
      gram[a * K + b] = s;
      gram[b * K + a] = s;
    }

  let trB = 0;
  for (let c = 0; c < K; c++) trB += gram[c * K + c];
  trB /= K;

  // tr Sigma_W from the residuals.
  let trW = 0;
  for (let i = 0; i < n; i++) {
    const o = labels[i] * d;
    for (let j = 0; j < d; j++) {
      const r = H[i * d + j] - classMeans[o + j];
      trW += r * r;
    }
  }
  trW /= n;
  const nc1 = trW / trB;

  // Sigma_B^+ in the span of the centred means.
  const scaled = gram.map((v) => v / K);
  const { values, vectors } = eighSym(scaled, K);
  const lmax = Math.max(values[0], 0);
  const dirs: Float64Array[] = [];
  const lams: number[] = [];
  for (let k = 0; k < K; k++) {
    const l = values[k];
    if (!(l > lmax * PINV_RELATIVE_CUTOFF) || l <= 0) continue;
    const v = new Float64Array(d);
    for (let c = 0; c < K; c++) {
      const u = vectors[c * K + k];
      if (u === 0) continue;
      for (let j = 0; j < d; j++) v[j] += u * C[c * d + j];
    }
    const norm = Math.sqrt(K * l);
    for (let j = 0; j < d; j++) v[j] /= norm;
    dirs.push(v);
    lams.push(l);
  }
  let classic = 0;
  if (dirs.length > 0) {
    const proj = new Float64Array(dirs.length);
    for (let i = 0; i < n; i++) {
      const o = labels[i] * d;
      proj.fill(0);
      for (let j = 0; j < d; j++) {
        const r = H[i * d + j] - classMeans[o + j];
        if (r === 0) continue;
        for (let k = 0; k < dirs.length; k++) proj[k] += r * dirs[k][j];
      }
      for (let k = 0; k < dirs.length; k++) classic += (proj[k] * proj[k]) / lams[k];
    }
    classic /= n * K;
  } else classic = trW === 0 ? NaN : Infinity;

  // NC2 from the cosines of the centred means.
  const norms = new Float64Array(K);
  for (let c = 0; c < K; c++) norms[c] = Math.sqrt(gram[c * K + c]);
  let nc2 = 0;
  for (let a = 0; a < K; a++)
    for (let b = 0; b < K; b++) {
      const g = norms[a] > 0 && norms[b] > 0 ? gram[a * K + b] / (norms[a] * norms[b]) : 0;
      const e = a === b ? 1 : -1 / (K - 1);
      nc2 += (g - e) * (g - e);
    }
  nc2 /= K * K;

  return { nc1, nc1Classic: classic, nc2, classMeans, counts };
}

/**
 * The K class means projected on their top-2 principal directions (K x 2 row-major): the means are
 * centred on their unweighted average, and the coordinates along the eigenvectors of the centred K x K
 * Gram are u_k sqrt(lambda_k). Each axis's sign is fixed so that its largest-magnitude coordinate is
 * positive (a deterministic picture across layers); an axis beyond the means' rank is all zeros.
 */
export function meanProjection2d(classMeans: Float64Array, K: number, d: number): Float64Array {
  if (classMeans.length !== K * d)
    throw new Error(`meanProjection2d: ${classMeans.length} entries, expected K x d = ${K} x ${d}`);
  const avg = new Float64Array(d);
  for (let c = 0; c < K; c++) for (let j = 0; j < d; j++) avg[j] += classMeans[c * d + j] / K;
  const gram = new Float64Array(K * K);
  for (let a = 0; a < K; a++)
    for (let b = a; b < K; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (classMeans[a * d + j] - avg[j]) * (classMeans[b * d + j] - avg[j]);
      gram[a * K + b] = s;
      gram[b * K + a] = s;
    }
  const out = new Float64Array(K * 2);
  if (K < 1) return out;
  const { values, vectors } = eighSym(gram, K);
  const lmax = Math.max(values[0], 0);
  for (let axis = 0; axis < Math.min(2, K); axis++) {
    const l = values[axis];
    if (!(l > lmax * PINV_RELATIVE_CUTOFF) || l <= 0) continue;
    const s = Math.sqrt(l);
    let big = 0;
    for (let c = 0; c < K; c++) if (Math.abs(vectors[c * K + axis]) > Math.abs(big)) big = vectors[c * K + axis];
    const sign = big < 0 ? -1 : 1;
    for (let c = 0; c < K; c++) out[c * 2 + axis] = sign * s * vectors[c * K + axis];
  }
  return out;
}
