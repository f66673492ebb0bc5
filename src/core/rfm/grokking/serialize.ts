// The one JSON report of a grokking run (snake_case; the CLI's --json and the view's export).
import type { GrokResult } from './run';

export interface GrokJson {
  op: string;
  p: number;
  train_frac: number;
  kernel: string;
  bandwidth: number;
  agop_power: number;
  center_grads: boolean;
  seed: number;
  n_train: number;
  n_test: number;
  backend: string;
  device: string;
  seconds: number;
  iterations: {
    iter: number;
    train_acc: number;
    test_acc: number;
    test_mse: number;
    /** null when the block is 0 (M = I at iteration 0). */
    circulant_deviation: number | null;
    agop_alignment: number;
    alignment_prev: number | null;
    trace_m: number;
    jitter: number;
    seconds: number;
  }[];
  /** The final 2p x 2p feature matrix, as rows. */
  M: number[][];
}

export function grokResultToJson(r: GrokResult): GrokJson {
  const o = r.options,
    d = 2 * o.p,
    M = r.Ms[r.Ms.length - 1];
  return {
    op: o.op,
    p: o.p,
    train_frac: o.trainFrac,
    kernel: o.kernel,
    bandwidth: o.bandwidth,
    agop_power: o.agopPower,
    center_grads: o.centerGrads,
    seed: o.seed,
    n_train: r.nTrain,
    n_test: r.nTest,
    backend: r.backend,
    device: r.device,
    seconds: r.seconds,
    iterations: r.iterations.map((it) => ({
      iter: it.iter,
      train_acc: it.trainAcc,
      test_acc: it.testAcc,
      test_mse: it.testMse,
      circulant_deviation: Number.isFinite(it.circulantDeviation) ? it.circulantDeviation : null,
      agop_alignment: it.agopAlignment,
      alignment_prev: it.alignmentPrev,
      trace_m: it.traceM,
      jitter: it.jitter,
      seconds: it.seconds,
    })),
    M: Array.from({ length: d }, (_, i) => Array.from(M.subarray(i * d, (i + 1) * d))),
  };
}
