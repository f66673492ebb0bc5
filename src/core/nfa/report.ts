// The NFA study's JSON report (`feature-lens nfa --json`, the featureLens.computeNfa result, the view's
// "Copy as JSON"): snake_case, matrices as nested rows. The one serializer of an NfaStudy.
import type { Task } from '../data/dataset';
import type { NfaCorrelations, EigenAlignment } from './correlation';
import type { NfaStudy, RfmComparison } from './study';

/** What the report says about its inputs (the caller's names for them). */
export interface NfaReportInputs {
  weights: string;
  data: string;
  target: string | number;
  activation: string;
  standardize: boolean;
  layer_order: string;
  ignored: readonly string[];
}

type Pair = { m: number; sqrt_m: number };

/** RFM comparisons are against M and M^(1/2), so the pair is renamed from agop/sqrt_agop. */
export interface RfmCorrelationJson {
  cosine: Pair;
  pearson: Pair;
  cosine_offdiag: Pair;
  pearson_offdiag: Pair;
}

export interface NfaReportLayer {
  name: string;
  /** 'conv' for a Conv2d layer (the AGOP is the patch-AGOP, docs/science.md §6), else 'dense'. */
  kind: 'conv' | 'dense';
  /** [out, in]; a conv layer's [k, c kh kw] (the matrices are (c kh kw)^2). */
  shape: [number, number];
  /** Conv layers only. */
  weight_shape?: number[];
  filter?: [number, number, number];
  stride?: number;
  padding?: number;
  pool?: { kind: string; size: number; stride: number } | null;
  correlation: NfaCorrelations;
  top_eigenvectors: EigenAlignment;
  nfm?: number[][];
  agop?: number[][];
  sqrt_agop?: number[][];
}

export type NfaReportRfm = {
  /** 'fit', or the saved run whose M was compared. */
  source: string;
  compared_with: string;
  correlation: RfmCorrelationJson;
  M?: number[][];
} & (
  | {
      rows: number;
      kernel: string;
      bandwidth: number;
      reg: number;
      iters: number;
      agop_power: number;
      task: Task;
      train_metric: number;
      device: string;
    }
  | { dataset: string; standardized: boolean }
);

export interface NfaReport extends NfaReportInputs {
  rows: number;
  backend: string;
  device: string;
  minus_init: boolean;
  layers: NfaReportLayer[];
  rfm: NfaReportRfm | null;
  /** Where the study ran when it was not the first choice, and why; null otherwise. */
  backend_note: string | null;
}

function rows(a: Float64Array, d: number): number[][] {
  return Array.from({ length: d }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
}

function asM(c: NfaCorrelations): RfmCorrelationJson {
  const pair = (p: { agop: number; sqrt_agop: number }) => ({ m: p.agop, sqrt_m: p.sqrt_agop });
  return {
    cosine: pair(c.cosine),
    pearson: pair(c.pearson),
    cosine_offdiag: pair(c.cosine_offdiag),
    pearson_offdiag: pair(c.pearson_offdiag),
  };
}

function originJson(o: RfmComparison['origin']) {
  switch (o.kind) {
    case 'fit':
      return {
        rows: o.rows,
        kernel: o.kernel,
        bandwidth: o.bandwidth,
        reg: o.reg,
        iters: o.iters,
        agop_power: o.agopPower,
        task: o.task,
        train_metric: o.trainMetric,
        device: o.device,
      };
    case 'given':
      return { dataset: o.dataset, standardized: o.standardized };
  }
}

/** `matrices`: include NFM, AGOP and AGOP^(1/2) per layer and the RFM's M. */
export function nfaReport(study: NfaStudy, inputs: NfaReportInputs, options: { matrices?: boolean } = {}): NfaReport {
  const { nfa, rfm } = study;
  const withMatrices = options.matrices === true;
  return {
    ...inputs,
    rows: nfa.rows,
    backend: nfa.backend,
    device: nfa.device,
    minus_init: nfa.minusInit,
    layers: nfa.layers.map((l) => ({
      name: l.name,
      kind: l.kind,
      shape: l.shape,
      ...(l.conv
        ? {
            weight_shape: l.conv.weightShape,
            filter: l.conv.filter,
            stride: l.conv.stride,
            padding: l.conv.padding,
            pool: l.conv.pool && { ...l.conv.pool },
          }
        : {}),
      correlation: l.correlation,
      top_eigenvectors: l.eigen,
      ...(withMatrices
        ? { nfm: rows(l.nfm, l.shape[1]), agop: rows(l.agop, l.shape[1]), sqrt_agop: rows(l.sqrtAgop, l.shape[1]) }
        : {}),
    })),
    rfm: rfm && {
      source: rfm.source,
      compared_with: rfm.comparedWith,
      ...originJson(rfm.origin),
      correlation: asM(rfm.correlation),
      ...(withMatrices ? { M: rows(rfm.M, rfm.d) } : {}),
    },
    backend_note: study.note,
  };
}
