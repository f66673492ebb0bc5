// The one place the extension calls the neural-collapse core (SCIENCE.md §7): the per-layer study of a
// network (core/nfa/collapse.ts collapseStudy) and Deep RFM (core/rfm/deep.ts deepRfm), each on the
// host placements core/compute.ts plans. The views take the shapes below; a change in the core's
// signatures is one edit here.
import { InputError } from '../../core/errors';
import type { Mat } from '../../core/mat';
import type { Mlp } from '../../core/nfa/network';
import type { ConvNet } from '../../core/nfa/convnet';
import type { Dataset } from '../../core/data/dataset';
import type { BackendChoice } from '../../core/compute';
import { collapseReport, collapseStudy } from '../../core/nfa/collapse';
import { hostCollapseCompute, hostDeepRfm } from '../../core/node';
import { deepRfmToJson, parseDeepRfmOptions } from '../../core/rfm/deep';

/** NC1, classic NC1, NC2 of one set of rows (SCIENCE.md §7). */
export interface Nc {
  nc1: number;
  nc1Classic: number;
  nc2: number;
}

/** 'input' (the data itself), then each hidden layer's post-activation features. */
export interface CollapseLayer {
  name: string;
  train: Nc;
  /** The training rows' class means on their top-2 principal directions, K x 2 row-major. */
  means2d: Float64Array;
  test: Nc | null;
}

export interface NetworkCollapse {
  layers: CollapseLayer[];
  /** The CLI's `collapse --json` report (snake_case, core's serializer). */
  report: unknown;
  device: string;
}

export interface LabelledRows {
  X: Mat;
  /** Class indices 0..K-1 of the training rows' classes; -1: a held-out class the training rows lack. */
  labels: Int32Array;
}

export interface Progress {
  choice: BackendChoice;
  signal: AbortSignal;
  /** A layer finished: `done` of `total`, with its numbers on the training rows. */
  onLayer?: (done: number, total: number, nc: Nc) => void;
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

/**
 * Held-out labels as indices into the training rows' classes (a class named the same is the same class);
 * -1 for a class the training rows lack (the core measures the held-out rows over the classes present).
 */
export function heldOutLabels(
  trainClasses: readonly string[],
  d: { task: string; y: Float64Array; classes?: string[]; targetName: string },
  where: string,
): Int32Array {
  if (d.task !== 'classification' || !d.classes)
    throw new InputError(
      `${where}: the held-out target '${d.targetName}' is numeric; it must hold the same class labels as the training data`,
    );
  const index = d.classes.map((c) => trainClasses.indexOf(c));
  return Int32Array.from(d.y, (v) => index[v] ?? -1);
}

/** Per-layer NC of `net` on `train` (and `test`): core/nfa/collapse.ts collapseStudy. */
export async function networkCollapse(
  net: Mlp | ConvNet,
  classes: readonly string[],
  train: LabelledRows,
  test: LabelledRows | null,
  progress: Progress,
  /** Fields the report starts with (weights, data, test, target, activation, standardize), as the CLI writes them. */
  meta: Record<string, unknown> = {},
): Promise<NetworkCollapse> {
  const result = await collapseStudy(
    { net, classes, train, test },
    hostCollapseCompute(progress.choice, {
      onFallback: (from, e, next) =>
        progress.onFallback?.(`${from} failed (${e.message})${next ? `; trying ${next}` : ''}`),
    }),
    { signal: progress.signal, onLayer: (l, i, total) => progress.onLayer?.(i + 1, total, l.train) },
  );
  const layers: CollapseLayer[] = [
    { name: 'input', train: result.input.train, means2d: result.input.means2d, test: result.input.test },
    ...result.layers.map((l) => ({ name: l.name, train: l.train, means2d: l.means2d, test: l.test })),
  ];
  return {
    layers,
    report: collapseReport(result, meta),
    device: `${result.backend} (${result.device})${result.note ? `; ${result.note}` : ''}`,
  };
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

/** Deep RFM on a classification dataset: core/rfm/deep.ts deepRfm. */
export async function deepRfmCurve(
  data: Dataset,
  settings: DeepRfmSettings,
  progress: Progress,
): Promise<DeepRfmCurve> {
  const placed = await hostDeepRfm(data, settings, {
    choice: progress.choice,
    signal: progress.signal,
    onLayer: (l) => progress.onLayer?.(l.layer + 1, settings.depth + 1, l),
    onFallback: (from, e, next) =>
      progress.onFallback?.(`${from} failed (${e.message})${next ? `; trying ${next}` : ''}`),
  });
  const r = placed.value;
  return {
    layers: r.layers.map((l) => ({ nc1: l.nc1, nc1Classic: l.nc1Classic, nc2: l.nc2 })),
    report: deepRfmToJson(r),
    device: `${r.backend} (${r.device}), ${placed.reason}`,
  };
}

/** The command's Deep RFM settings, checked as the CLI checks its flags (defaults: the CLI's). */
export function deepRfmSettings(
  raw: Partial<Omit<DeepRfmSettings, 'agop'>>,
  where: string,
): Omit<DeepRfmSettings, 'agop'> {
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const { depth, width, bandwidth, seed } = parseDeepRfmOptions(given, (k) => `${where} ${k}`);
  return { depth, width, bandwidth, seed };
}
