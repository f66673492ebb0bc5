// Pure helpers of the NFA view (no DOM): the correlation table as rows and TSV, and which features the
// heatmaps show. Kept apart so unit tests reach them without a browser.
import type { NfaCorrelations } from '../../src/core/nfa/correlation';

export const CORRELATION_COLUMNS: { key: keyof NfaCorrelations; power: 'agop' | 'sqrt_agop'; label: string }[] = [
  { key: 'cosine', power: 'agop', label: 'cosine AGOP' },
  { key: 'cosine', power: 'sqrt_agop', label: 'cosine AGOP^1/2' },
  { key: 'pearson', power: 'agop', label: 'Pearson AGOP' },
  { key: 'pearson', power: 'sqrt_agop', label: 'Pearson AGOP^1/2' },
  { key: 'cosine_offdiag', power: 'agop', label: 'cosine AGOP (off-diag)' },
  { key: 'cosine_offdiag', power: 'sqrt_agop', label: 'cosine AGOP^1/2 (off-diag)' },
  { key: 'pearson_offdiag', power: 'agop', label: 'Pearson AGOP (off-diag)' },
  { key: 'pearson_offdiag', power: 'sqrt_agop', label: 'Pearson AGOP^1/2 (off-diag)' },
];

export interface CorrelationRow {
  label: string;
  values: number[];
}

/** One row per layer, plus the RFM's M (and M^1/2 in the AGOP^1/2 columns) against the first layer's NFM. */
export function correlationRows(
  layers: { name: string; correlation: NfaCorrelations; kind?: 'conv' | 'dense' }[],
  rfm: { comparedWith: string; correlation: NfaCorrelations } | null,
): CorrelationRow[] {
  const row = (label: string, c: NfaCorrelations): CorrelationRow => ({
    label,
    values: CORRELATION_COLUMNS.map((col) => c[col.key][col.power]),
  });
  // A conv network's rows say which layers are conv (patch-AGOP) and which dense.
  const conv = layers.some((l) => l.kind === 'conv');
  const out = layers.map((l) => row(conv ? `${l.name} (${l.kind ?? 'dense'})` : l.name, l.correlation));
  if (rfm) out.push(row(`RFM M vs NFM of ${rfm.comparedWith}`, rfm.correlation));
  return out;
}

/** Tab-separated with full precision (shortest round-trip form), NaN written as NaN. */
export function correlationTsv(rows: CorrelationRow[]): string {
  const header = ['layer', ...CORRELATION_COLUMNS.map((c) => c.label)].join('\t');
  return [header, ...rows.map((r) => [r.label, ...r.values.map((v) => String(v))].join('\t'))].join('\n') + '\n';
}

/** Indices of the k largest diagonal entries of a d x d matrix (ties by index), for a legible heatmap of large d. */
export function topByDiagonal(m: Float64Array, d: number, k: number): number[] {
  return [...Array(d).keys()]
    .sort((a, b) => m[b * d + b] - m[a * d + a] || a - b)
    .slice(0, Math.max(0, Math.min(k, d)));
}

/** The k x k block of a d x d matrix at the given indices. */
export function block(m: Float64Array, d: number, idx: readonly number[]): Float64Array {
  const k = idx.length;
  const out = new Float64Array(k * k);
  idx.forEach((a, i) => idx.forEach((b, j) => (out[i * k + j] = m[a * d + b])));
  return out;
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > m) m = Math.abs(values[i]);
  return m;
}

/**
 * The top `k` eigenvectors (largest eigenvalue first) of a symmetric matrix over a conv layer's patch
 * entries, each reshaped as a c x kh x kw filter for the image grid. Signs as signedEigenpairs fixes them (largest entry positive).
 */
export function eigenFilters(
  vectors: readonly Float64Array[],
  values: ArrayLike<number>,
  filter: readonly [number, number, number],
  what: string,
  k: number,
): { title: string; data: Float64Array; shape: readonly [number, number, number]; signed: boolean }[] {
  return vectors.slice(0, k).map((v, i) => ({
    title: `${what} v${i + 1} (λ ${Number(values[i]).toPrecision(3)})`,
    data: v,
    shape: filter,
    signed: true,
  }));
}
