import type { BackendName } from '../errors';

/**
 * lin-RFM matrix completion backends (docs: /work/shared/docs/science.md §8). The orchestrator
 * (complete.ts, completeMatrix) owns the schedule (λ, stopping rule, validation split, α); a backend
 * owns the m x d matrix and runs ONE iteration at a time on its device, so the matrix never crosses
 * back per iteration: only a few scalars (LinRfmStep) do, and on request the d x d Gram matrix
 * (spectrum, α outside {½, 1}) or the completed matrix (the end of a run, a view's snapshot).
 *
 * Data layout (everything row-major, 0-based):
 * - Y is m x d (m = rows, d = cols). Its observed entries come as CSR per row (ObservedCsr): row i
 *   owns positions rowPtr[i] .. rowPtr[i+1]-1 of colIdx/values, columns strictly ascending within a
 *   row. Rows may be empty (rowPtr[i] === rowPtr[i+1]). The orchestrator splits the observed entries
 *   into `train` (the per-row solves use them and they are put back) and `validation` (held back:
 *   predicted and scored, never used in a solve, never put back); the two never share an entry.
 * - P = MᵀM is d x d, symmetric, row-major. M_0 = I, so the orchestrator's first call is setP(identity).
 * - W (the completed matrix of the current iteration) is m x d row-major: row i is the prediction
 *   a_iᵀ P_{O_i,:} with a_i = (P_{O_i,O_i} + λ I)^{-1} y_{i,O_i}, then the train entries of row i put back
 *   (W[i, j] = Y[i, j] for j in O_i). O_i = the train columns of row i. A row with no train entries
 *   predicts zeros.
 * - G = WᵀW / m is d x d (the AGOP of the row predictors), computed from W after the put-back.
 *
 * One iteration, as the orchestrator drives it:
 *   const step = await backend.iterate(reg);   // solves, predictions, put-back, errors, G  (device)
 *   if (improved) await backend.keepBest();     // copy W to the best slot                  (device)
 *   α = ½: await backend.updateP('gram');       // P ← G                                    (device)
 *   α = 1: await backend.updateP('gramSquared'); // P ← G·G                                  (device)
 *   other α: P = G^{2α} by eigendecomposition on the host: readGram(), then setP(P).
 * Calls are sequential (the orchestrator awaits each before the next).
 */

/** Observed entries of an m x d matrix, CSR per row (see the layout above). */
export interface ObservedCsr {
  /** Length rows + 1; rowPtr[0] = 0, rowPtr[rows] = number of entries. */
  readonly rowPtr: Int32Array;
  /** Column of each entry, ascending within a row, each in 0 .. cols-1. */
  readonly colIdx: Int32Array;
  /** Value of each entry (finite). */
  readonly values: Float64Array;
}

/** What setProblem uploads once per run. */
export interface LinRfmProblem {
  readonly rows: number;
  readonly cols: number;
  /** Entries the per-row ridge solves use and that are put back into W. */
  readonly train: ObservedCsr;
  /** Held-back entries: only scored (LinRfmStep.validationSse). May hold no entries. */
  readonly validation: ObservedCsr;
}

/** The scalars one iteration sends back. Sums, so the orchestrator chooses the normalisation. */
export interface LinRfmStep {
  /** Σ over train entries of (prediction − y)², the prediction taken BEFORE the put-back. */
  readonly trainSse: number;
  /** Σ over validation entries of (W[i, j] − y)². 0 when there are none. */
  readonly validationSse: number;
}

/** How updateP forms P from G = WᵀW/m on the device: α = ½ gives P = G, α = 1 gives P = G². */
export type LinRfmPRule = 'gram' | 'gramSquared';

export interface LinRfmBackend {
  readonly name: BackendName;
  /** Human-readable device: "cpu float64" or "webgpu <adapter>". */
  readonly device: string;
  /** Uploads the problem (once per run). Resets W, G and the best slot to zeros; P must be set next. */
  setProblem(problem: LinRfmProblem): Promise<void>;
  /** Sets P (d x d symmetric, row-major) from the host: P = I at the start, G^{2α} for other α. */
  setP(P: Float64Array): Promise<void>;
  /**
   * One iteration with the current P and ridge `reg` (= λ): all per-row solves, predictions, the
   * train entries put back (W), the two error sums, and G = WᵀW/m. W and G stay on the device.
   */
  iterate(reg: number): Promise<LinRfmStep>;
  /** P ← G ('gram') or P ← G·G ('gramSquared'), on the device. */
  updateP(rule: LinRfmPRule): Promise<void>;
  /** G = WᵀW/m of the last iterate (d x d row-major, symmetric); for the spectrum and other α. */
  readGram(): Promise<Float64Array>;
  /** Copies the current W into the best slot (the orchestrator calls it when validation improves). */
  keepBest(): Promise<void>;
  /** W of the last iterate ('current') or of the last keepBest ('best'), m x d row-major. */
  readCompleted(which: 'current' | 'best'): Promise<Float64Array>;
  /** Frees device resources. The backend is unusable afterwards. */
  dispose(): void;
}
