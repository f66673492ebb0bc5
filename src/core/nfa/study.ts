// The NFA study (docs/science.md §2): a network's NFM_l against its AGOP_l per layer (computeNfa), then the
// first layer's NFM against an RFM's feature matrix M — an RFM fitted on the same rows, or a given M.
// The CLI's `nfa` and the extension's NFA view both run this; where each part computes is planned by
// core/compute.ts (features 'nfa' and 'rfm'), the caller only says how a placement computes (the RFM
// is the caller's too: core/nfa does not import core/rfm; core/node.ts wires both for Node).
import { planPlacements, runPlaced, type BackendChoice, type Placement } from '../compute';
import type { Dataset } from '../data/dataset';
import { throwIfCancelled, type CancelToken } from '../errors';
import { takeRows, type Mat } from '../mat';
import { permutation } from '../random';
import type { Task } from '../data/dataset';
import type { NfaBackend } from './backend';
import { computeNfa, rfmCorrelations, type NfaResult } from './compute';
import type { NfaCorrelations } from './correlation';
import { isConvNet, type ConvNet } from './convnet';
import type { Mlp } from './network';

/** Rows the comparison RFM is fitted on at most (a seeded subsample beyond): its solve is O(n^3). */
export const DEFAULT_RFM_ROWS = 4000;

/** An RFM fitted on (at most `rows` of) the same rows. */
export interface RfmFitPlan {
  kind: 'fit';
  iters: number;
  bandwidth: number;
  rows: number;
  /** Seeds the subsample beyond `rows` (the RFM's own default seed, so the rows match the CLI's). */
  seed: number;
}

/** What the first layer's NFM is compared with. */
export type RfmComparisonPlan =
  | RfmFitPlan
  /** An M from elsewhere (a saved run): `source` names it, `dataset` and `standardized` describe its fit. */
  | { kind: 'given'; M: Float64Array; source: string; dataset: string; standardized: boolean }
  | { kind: 'none' };

export interface NfaStudyInput {
  /** A dense network, or a conv network (its first layer's NFM is over patches: no RFM comparison). */
  net: Mlp | ConvNet;
  /** The rows' targets (the comparison RFM's y); its X may be the raw inputs. */
  dataset: Dataset;
  /** The network's inputs: dataset.X as stored, or standardised. The RFM sees exactly these. */
  X: Mat;
  initWeights?: Float64Array[];
  rfm: RfmComparisonPlan;
}

/** The study has no page of its own: it runs in the extension host or the CLI process. */
export type HostPlacement = Extract<Placement, 'host-gpu' | 'host-cpu'>;

/** The comparison RFM as the caller fitted it: its M and what the report says about the fit. */
export interface ComparisonFit {
  /** d x d, row-major. */
  M: Float64Array;
  kernel: string;
  bandwidth: number;
  reg: number;
  iters: number;
  agopPower: number;
  task: Task;
  trainMetric: number;
  device: string;
}

/** How each part computes at a placement on this surface (the process's GPU lease or its CPU). */
export interface NfaStudyCompute {
  choice: BackendChoice;
  nfaBackend(placement: HostPlacement): Promise<NfaBackend>;
  /**
   * Fits the comparison RFM at `placement` on `data` exactly as given (no standardisation inside: the
   * RFM sees the network's inputs) with the plan's iterations and bandwidth.
   */
  fitRfm(placement: HostPlacement, data: Dataset, plan: RfmFitPlan, cancel?: CancelToken): Promise<ComparisonFit>;
  /** How notes name the host surface (default the extension host). */
  host?: string;
  /** Hears each move to the next placement (a log line, a warning). */
  onFallback?(part: 'nfa' | 'rfm', from: Placement, error: Error, next: Placement | undefined): void;
}

export interface NfaStudyHooks {
  cancel?: CancelToken;
  /** Rows of the network AGOPs done (restarts from 0 when a placement fails mid-run). */
  onProgress?(rowsDone: number, rowsTotal: number): void;
  /** The RFM fit starts. */
  onRfm?(): void;
}

export interface RfmComparison {
  /** 'fit', or the given M's source (a run id). */
  source: string;
  /** The layer whose NFM is compared (the first). */
  comparedWith: string;
  d: number;
  /** d x d, row-major. */
  M: Float64Array;
  /** NFM_1 against M and M^(1/2) (agop = M, sqrt_agop = M^(1/2)). */
  correlation: NfaCorrelations;
  /** The RFM fitted here (on `rows` rows), or what is known of a given M's fit. */
  origin:
    | ({ kind: 'fit'; rows: number } & Omit<ComparisonFit, 'M'>)
    | { kind: 'given'; dataset: string; standardized: boolean };
}

export interface NfaStudy {
  nfa: NfaResult;
  rfm: RfmComparison | null;
  /** What ran where when it was not the first choice ("CPU in the extension host (WebGPU ...: no adapter)"), else null. */
  note: string | null;
}

/** The rows the comparison RFM is fitted on: all of them, or a seeded subsample of `rows`. */
export function rfmRows(dataset: Dataset, X: Mat, rows: number, seed: number): Dataset {
  const all: Dataset = { ...dataset, X };
  if (X.rows <= rows) return all;
  const idx = permutation(X.rows, seed).subarray(0, rows);
  return { ...all, X: takeRows(X, idx), y: Float64Array.from(idx, (i) => dataset.y[i]) };
}

const isHost = (p: Placement): p is HostPlacement => p === 'host-gpu' || p === 'host-cpu';

/**
 * `attempt` at each host placement of `part` in turn until one finishes; `note` says where it ran when
 * that was not the first choice, and why.
 */
async function onHostPlacements<T>(
  part: 'nfa' | 'rfm',
  compute: NfaStudyCompute,
  attempt: (p: HostPlacement) => Promise<T>,
): Promise<{ value: T; note: string | null }> {
  const plan = planPlacements(part, compute.choice, { page: false }).filter(isHost);
  const placed = await runPlaced(plan, (p) => attempt(p as HostPlacement), {
    host: compute.host,
    onFallback: (from, e, next) => compute.onFallback?.(part, from, e, next),
  });
  return { value: placed.value, note: placed.placement === plan[0] ? null : placed.reason };
}

export async function runNfaStudy(
  input: NfaStudyInput,
  compute: NfaStudyCompute,
  hooks: NfaStudyHooks = {},
): Promise<NfaStudy> {
  const notes: string[] = [];
  const placedNfa = await onHostPlacements('nfa', compute, async (p) => {
    const backend = await compute.nfaBackend(p);
    try {
      return await computeNfa(input.net, input.X, backend, {
        initWeights: input.initWeights,
        cancel: hooks.cancel,
        onProgress: hooks.onProgress,
      });
    } finally {
      backend.dispose();
    }
  });
  if (placedNfa.note) notes.push(placedNfa.note);
  const nfa = placedNfa.value;
  const nfm1 = nfa.layers[0].nfm;
  const comparedWith = nfa.layers[0].name;
  const d = input.X.cols;

  let rfm: RfmComparison | null = null;
  // A conv layer's NFM is over c kh kw patch entries, not the d inputs an RFM's M is over.
  const plan: RfmComparisonPlan =
    isConvNet(input.net) && input.net.layers[0].kind === 'conv' ? { kind: 'none' } : input.rfm;
  if (plan.kind === 'given') {
    rfm = {
      source: plan.source,
      comparedWith,
      d,
      M: plan.M,
      correlation: rfmCorrelations(nfm1, plan.M, d),
      origin: { kind: 'given', dataset: plan.dataset, standardized: plan.standardized },
    };
  } else if (plan.kind === 'fit') {
    hooks.onRfm?.();
    const data = rfmRows(input.dataset, input.X, plan.rows, plan.seed);
    const placedFit = await onHostPlacements('rfm', compute, (p) => compute.fitRfm(p, data, plan, hooks.cancel));
    // Both parts moved on for the same reason (no adapter): one note says it.
    if (placedFit.note && placedFit.note !== placedNfa.note) notes.push(`RFM: ${placedFit.note}`);
    const { M, ...fit } = placedFit.value;
    rfm = {
      source: 'fit',
      comparedWith,
      d,
      M,
      correlation: rfmCorrelations(nfm1, M, d),
      origin: { kind: 'fit', rows: data.X.rows, ...fit },
    };
  }
  throwIfCancelled(hooks.cancel);
  return { nfa, rfm, note: notes.length ? notes.join('; ') : null };
}
