// What an RFM fit will cost, from n, d, classes and the backend, before it allocates: the CPU holds the
// n x n float64 kernel matrix and factors it (n^3/3 per round); WebGPU keeps K on the device when it fits
// maxDeviceBytes and recomputes its tiles per CG product otherwise (rfm/webgpu.ts). The limits are in
// core/limits.ts; fitRfm refuses a CPU fit over them with the largest n that fits and the ways out.
import { InputError, option } from '../errors';
import { CPU_FLOPS, formatBytes, MAX_CPU_FIT_SECONDS, MAX_CPU_KERNEL_BYTES, MAX_CPU_TREE_SECONDS } from '../limits';
import type { SolverName } from './solvers';

export interface RfmShape {
  /** Training rows (after a validation split). */
  n: number;
  /** Encoded features. */
  d: number;
  /** Output columns: classes for classification, 1 for regression. */
  classes: number;
  /** Held-out rows predicted each round. */
  nTest: number;
  iters: number;
  agopSamples: number;
  diag: boolean;
  /** The solver (resolved); absent = direct. */
  solver?: SolverName;
}

/**
 * Assumed work of the iterative solvers per round, for the estimate only (measured on the benchmark
 * fits: 40-90 CG iterations per round with the warm start; EigenPro epochs vary more).
 */
const CG_ITERATIONS = 100;
const EIGENPRO_EPOCHS = 20;

/** Bytes the CPU holds for K: the full float64 matrix (direct), its packed triangle (CG) or none (EigenPro). */
function cpuKernelBytes(s: RfmShape): number {
  if (s.solver === 'cg') return ((s.n * (s.n + 1)) / 2) * 8;
  if (s.solver === 'eigenpro') return Math.min(s.n, 2000) ** 2 * 8 * 2;
  return s.n * s.n * 8;
}

export interface RfmEstimate {
  backend: 'cpu' | 'webgpu';
  /** Host bytes the fit holds at its peak (kernel matrix, points, feature matrix). */
  hostBytes: number;
  /** Device bytes (WebGPU): K when stored, the points; 0 on the CPU. */
  deviceBytes: number;
  /** Estimated floating-point operations of the whole fit (every round). */
  flops: number;
  /** Estimated seconds on the CPU (CPU_FLOPS); WebGPU: null (the device's speed is not known ahead). */
  seconds: number | null;
}

/** WebGPU's default device budget and direct-solve size (rfm/webgpu.ts). */
const WEBGPU_DEVICE_BYTES = 3 * 1024 ** 3;
const WEBGPU_DIRECT_N = 1000;

function roundFlops(s: RfmShape, cpuSolve: boolean): number {
  const { n, d, classes: c, nTest, diag } = s;
  const m = Math.min(n, s.agopSamples);
  let kernel = (n * n * (3 * d + 10)) / 2;
  let solve = cpuSolve ? n ** 3 / 3 + 2 * n * n * c : 0;
  if (s.solver === 'cg') solve = CG_ITERATIONS * (2 * n * n * c + 4 * n * 256 * c);
  if (s.solver === 'eigenpro') {
    // Every epoch recomputes K(B, X) for all batches, plus K(S, B); an entry's exp and sqrt count as
    // ~30 operations here (one CPU kernel evaluation took ~20 ns at d = 20, measured).
    kernel = 0;
    solve = EIGENPRO_EPOCHS * (n * n + n * Math.min(n, 2000)) * (3 * d + 40 + 2 * c);
  }
  const predict = nTest * n * (3 * d + 10 + c);
  const agop = m * n * (3 * d + 10 + 2 * c * d) + m * c * (diag ? d : d * d);
  return kernel + solve + predict + agop;
}

export function estimateRfm(s: RfmShape, backend: 'cpu' | 'webgpu'): RfmEstimate {
  const { n, d } = s;
  const rounds = s.iters + 1;
  // X, its standardised copy and the transformed copy; M and its transform when full.
  const points = 3 * n * d * 8 + s.nTest * d * 8 * 2 + (s.diag ? 2 * d * 8 : 3 * d * d * 8);
  if (backend === 'cpu') {
    const flops = rounds * roundFlops(s, true);
    return { backend, hostBytes: cpuKernelBytes(s) + points, deviceBytes: 0, flops, seconds: flops / CPU_FLOPS };
  }
  const direct = s.solver ? s.solver === 'direct' : n <= WEBGPU_DIRECT_N;
  // K, plus the symmetric CG product's column partials: K / 32 per right-hand-side column block
  // with subgroups of 8 (rfm/webgpu.ts symmetricPlan), bounded here by that. On a CPU-emulated adapter
  // (rfm/webgpu.ts hostProducts) K sits in host memory instead, with an 8 MiB device tile: the same
  // total, which is what the budget weighs.
  const kBytes = n * n * 4 * (1 + (s.classes === 1 ? 1 : Math.ceil(s.classes / 4) * 4) / 32);
  return {
    backend,
    hostBytes: points + (direct ? n * n * 8 : n * 256 * 8 * 2),
    deviceBytes: (kBytes <= WEBGPU_DEVICE_BYTES && s.solver !== 'eigenpro' ? kBytes : 0) + n * d * 4 * 2,
    flops: rounds * roundFlops(s, direct),
    seconds: null,
  };
}

function fits(s: RfmShape): boolean {
  const e = estimateRfm(s, 'cpu');
  return cpuKernelBytes(s) <= MAX_CPU_KERNEL_BYTES && (e.seconds ?? 0) <= MAX_CPU_FIT_SECONDS;
}

/** The largest number of training rows a CPU fit of this shape may have (the held-out part scaled along). */
export function largestCpuRows(s: RfmShape): number {
  let lo = 1,
    hi = Math.max(1, s.n);
  const at = (n: number): RfmShape => ({ ...s, n, nTest: Math.round((s.nTest * n) / Math.max(1, s.n)) });
  if (fits(at(hi))) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(at(mid))) lo = mid;
    else hi = mid;
  }
  return lo;
}

const round = (x: number) => (x >= 100 ? Math.round(x).toString() : x.toPrecision(2));

/** A one-line description for a note before a long fit. */
export function describeEstimate(s: RfmShape, e: RfmEstimate): string {
  const time = e.seconds === null ? '' : `, about ${round(e.seconds)} s on one core (estimate)`;
  const device = e.deviceBytes > 0 ? `, ${formatBytes(e.deviceBytes)} on the device` : '';
  return `RFM fit of n = ${s.n} rows, d = ${s.d}, ${s.iters + 1} rounds on ${e.backend}: ${formatBytes(e.hostBytes)} of memory${device}${time}`;
}

/**
 * Refuses a CPU fit whose kernel matrix is over MAX_CPU_KERNEL_BYTES or whose estimated time is over
 * MAX_CPU_FIT_SECONDS, naming the largest n that fits and the alternatives. `source` names the data.
 */
export function checkRfmBudget(s: RfmShape, backend: 'cpu' | 'webgpu', source: string): RfmEstimate {
  const e = estimateRfm(s, backend);
  if (backend !== 'cpu' || fits(s)) return e;
  const kernelBytes = cpuKernelBytes(s);
  const over =
    kernelBytes > MAX_CPU_KERNEL_BYTES
      ? `its ${s.n} x ${s.n} float64 kernel matrix${s.solver === 'cg' ? ' (its packed lower triangle)' : ''} needs ${formatBytes(kernelBytes)}, over the CPU limit of ${formatBytes(MAX_CPU_KERNEL_BYTES)}`
      : `it would take about ${round(e.seconds!)} s (estimate), over the CPU limit of ${MAX_CPU_FIT_SECONDS} s`;
  const agopHeavy = s.agopSamples > 1000 && Math.min(s.n, s.agopSamples) * s.d * s.d > s.n ** 3 / 3;
  const ways = [
    `run on WebGPU (${option('backend')} webgpu or auto, where a GPU is available)`,
    ...(kernelBytes > MAX_CPU_KERNEL_BYTES && s.solver !== 'eigenpro'
      ? [`use ${option('solver')} eigenpro (O(n) memory, never forms K)`]
      : []),
    `subsample the training rows to at most ${largestCpuRows(s)}`,
    ...(agopHeavy ? [`lower ${option('agopSamples')}`] : []),
    ...(s.iters > 1 ? [`use fewer ${option('iters')}`] : []),
  ];
  throw new InputError(
    `${source}: an RFM fit of ${s.n} training rows (d = ${s.d}) on the CPU is refused: ${over}; ${ways.join(', or ')}`,
  );
}

/**
 * An xRFM tree on the CPU: median splits until a node holds at most `leafSize` rows make 2^depth leaves
 * of n / 2^depth rows each; each leaf is one fit (its rows split into training and held-out as
 * `heldOut` says), fitted in sequence. Returns the leaves and the estimated seconds of all of them.
 */
export function estimateCpuTree(
  s: Omit<RfmShape, 'n' | 'nTest'> & { rows: number; heldOut: number },
  leafSize: number,
): { leaves: number; leafRows: number; seconds: number } {
  const depth = Math.max(0, Math.ceil(Math.log2(s.rows / Math.max(1, leafSize))));
  const leaves = 2 ** depth;
  const leafRows = Math.ceil(s.rows / leaves);
  const nTest = Math.round(leafRows * s.heldOut);
  const leaf = estimateRfm({ ...s, n: leafRows - nTest, nTest }, 'cpu');
  return { leaves, leafRows, seconds: leaves * (leaf.seconds ?? 0) };
}

/**
 * Refuses a one-machine CPU tree whose leaves together are estimated over MAX_CPU_TREE_SECONDS, before
 * any split is fitted, naming the ways out (WebGPU, the leaves as cluster jobs, fewer rows).
 */
export function checkCpuTreeBudget(
  s: Omit<RfmShape, 'n' | 'nTest'> & { rows: number; heldOut: number },
  leafSize: number,
  source: string,
): void {
  const e = estimateCpuTree(s, leafSize);
  if (e.seconds <= MAX_CPU_TREE_SECONDS) return;
  let lo = 1;
  let hi = s.rows;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (estimateCpuTree({ ...s, rows: mid }, leafSize).seconds <= MAX_CPU_TREE_SECONDS) lo = mid;
    else hi = mid;
  }
  throw new InputError(
    `${source}: an xRFM tree of ${s.rows} rows on the CPU is refused: ${e.leaves} leaves of about ${e.leafRows} rows would take about ${round(e.seconds)} s (estimate), over the CPU limit of ${MAX_CPU_TREE_SECONDS} s; run on WebGPU (${option('backend')} webgpu or auto, where a GPU is available), or write the leaves as cluster jobs with ${option('plan')} DIR (each leaf is one fit within the limits), or subsample the rows to at most ${lo}`,
  );
}
