// The one place the extension calls the neural-collapse core (SCIENCE.md §7): the per-layer study of a
// network (core/nfa/collapse.ts collapseStudy) and Deep RFM (core/rfm/deep.ts deepRfm), each on the
// host placements core/compute.ts plans. The views take the shapes below; a change in the core's
// signatures is one edit here.
import { InputError } from '../../core/errors';
import type { Mat } from '../../core/mat';
import type { Mlp } from '../../core/nfa/network';
import type { BackendChoice } from '../../core/compute';

/** NC1, classic NC1, NC2 of one set of rows (SCIENCE.md §7). */
export interface Nc {
  nc1: number;
  nc1Classic: number;
  nc2: number;
}

export interface NcWithMeans extends Nc {
  /** The class means projected on their top-2 principal directions, K x 2 row-major. */
  means2d: Float64Array;
}

/** 'input' (the data itself), then each hidden layer's post-activation features. */
export interface CollapseLayer {
  name: string;
  train: NcWithMeans;
  test: NcWithMeans | null;
}

export interface NetworkCollapse {
  layers: CollapseLayer[];
  /** The CLI's `collapse --json` report (snake_case, core's serializer). */
  report: unknown;
  device: string;
}

export interface LabelledRows {
  X: Mat;
  /** Class indices 0..K-1. */
  labels: Int32Array;
}

export interface Progress {
  choice: BackendChoice;
  signal: AbortSignal;
  /** A layer finished: `done` of `total`. */
  onLayer?: (done: number, total: number) => void;
  onFallback?: (line: string) => void;
}

/** Class labels of a classification dataset, or an InputError naming the file and the way out. */
export function classLabels(
  d: { task: string; y: Float64Array; classes?: string[]; targetName: string },
  where: string,
): { labels: Int32Array; classes: string[] } {
  if (d.task !== 'classification' || !d.classes || d.classes.length < 2)
    throw new InputError(
      `${where}: neural collapse needs class labels; target '${d.targetName}' is ${d.task === 'classification' ? 'a single class' : 'numeric (regression)'}. Choose a column of class labels as the target.`,
    );
  return { labels: Int32Array.from(d.y), classes: d.classes };
}

const pending = (what: string): never => {
  throw new Error(`${what}: the neural-collapse core is not part of this build yet`);
};

/** Per-layer NC of `net` on `train` (and `test`): core/nfa/collapse.ts collapseStudy. */
export async function networkCollapse(
  net: Mlp,
  train: LabelledRows,
  test: LabelledRows | null,
  K: number,
  progress: Progress,
): Promise<NetworkCollapse> {
  void [net, train, test, K, progress];
  return pending('collapse');
}

export interface DeepRfmSettings {
  depth: number;
  width: number;
  bandwidth: number;
  seed: number;
  /** false: the control, random features without the M^½ step. */
  agop: boolean;
}

export interface DeepRfmCurve {
  /** Layer 0 is the input. */
  layers: Nc[];
  /** The CLI's `deep-rfm --json` report. */
  report: unknown;
  device: string;
}

/** Deep RFM on `rows`: core/rfm/deep.ts deepRfm. */
export async function deepRfmCurve(
  rows: LabelledRows,
  K: number,
  settings: DeepRfmSettings,
  progress: Progress,
): Promise<DeepRfmCurve> {
  void [rows, K, settings, progress];
  return pending('deep-rfm');
}

/** The CLI's defaults for `deep-rfm` (SCIENCE.md §7: width 512, L = 2, 8 layers). */
export const DEEP_RFM_DEFAULTS = { depth: 8, width: 512, bandwidth: 2, seed: 0 } as const;
