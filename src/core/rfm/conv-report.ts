// The ConvRFM JSON report (snake_case), made here only: the CLI writes it, the extension saves it.
import type { ConvRfmResult } from './conv-fit';

export interface ConvRfmReport {
  task: string;
  n_train: number;
  n_test: number;
  image_shape: number[];
  patch: number;
  stride: number;
  positions: number;
  patch_dim: number;
  classes?: string[];
  kernel: string;
  bandwidth: number;
  reg: number;
  agop_power: number;
  normalize: string;
  backend: string;
  device: string;
  fallback?: string;
  iterations: {
    iter: number;
    train_metric: number;
    test_metric: number | null;
    test_mse: number | null;
    train_mse: number;
    seconds: number;
    reg_used: number;
  }[];
  final: { train_metric: number; test_metric: number | null; test_mse: number | null };
  /** The patch feature matrix, (C·q·q) rows of C·q·q numbers, patch entries in (channel, row, column) order. */
  M: number[][];
  seconds: number;
}

export function convRfmResultToJson(r: ConvRfmResult, fallback?: string): ConvRfmReport {
  const D = r.patchDim;
  const o = r.options;
  return {
    task: r.task,
    n_train: r.nTrain,
    n_test: r.nTest,
    image_shape: [...r.imageShape],
    patch: o.patch,
    stride: o.stride,
    positions: r.positions,
    patch_dim: D,
    ...(r.classes ? { classes: r.classes } : {}),
    kernel: o.kernel,
    bandwidth: o.bandwidth,
    reg: o.reg,
    agop_power: o.agopPower,
    normalize: o.normalize,
    backend: r.backend,
    device: r.device,
    ...(fallback ? { fallback } : {}),
    iterations: r.iterations.map((it) => ({
      iter: it.iter,
      train_metric: it.trainMetric,
      test_metric: it.testMetric,
      test_mse: it.testMse,
      train_mse: it.trainMse,
      seconds: it.seconds,
      reg_used: it.regUsed,
    })),
    final: { train_metric: r.final.trainMetric, test_metric: r.final.testMetric, test_mse: r.final.testMse },
    M: Array.from({ length: D }, (_, i) => Array.from(r.M.subarray(i * D, (i + 1) * D))),
    seconds: r.seconds,
  };
}
