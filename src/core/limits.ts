// Every size and work limit of Feature Lens in one place (the README's "Limits" table lists them). A
// reader or a computation checks its limit from what a header, a stat or the flags declare, BEFORE it
// allocates, and refuses with an InputError that names the limit and the way out.
import { InputError } from './errors';

/** Bytes of a binary dataset file (.npy, .npz, .parquet), from stat before a byte is read. */
export const MAX_DATASET_BYTES = 2 ** 30;
/** Bytes of a text dataset (.csv, .tsv, .txt): a JavaScript string holds at most ~2^29 characters. */
export const MAX_TEXT_DATASET_BYTES = 500 * 2 ** 20;
/** Rows of a dataset (declared by a Parquet footer or an .npy header, or counted while parsing text). */
export const MAX_ROWS = 1_000_000;
/** Columns of a raw table (before one-hot encoding). */
export const MAX_COLUMNS = 10_000;
/** Rows x columns of a table, and rows x encoded features of X: 2^27 float64 cells = 1 GiB. */
export const MAX_CELLS = 2 ** 27;
/** Encoded features d (one-hot included): the feature matrix M is d x d and the AGOP costs n·d² per round. */
export const MAX_FEATURES = 4096;
/** Bytes a .npz may inflate to (all chosen arrays together). */
export const MAX_INFLATED_BYTES = 2 ** 30;
/** Bytes of a training log read at once (`spikes`, the log panel's first read); the live follower reads only new bytes. */
export const MAX_LOG_BYTES = 512 * 2 ** 20;

/** RFM on the CPU: the n x n float64 kernel matrix (factored in place) may take at most this many bytes. */
export const MAX_CPU_KERNEL_BYTES = 2 ** 30;
/**
 * RFM on the CPU: float64 operations per second assumed for the estimate. Measured: n = 3000, d = 10,
 * 3 classes, 2 rounds = 2.0e10 estimated operations in 9.7 s on one core of the CI machine.
 */
export const CPU_FLOPS = 2e9;
/** An estimated fit longer than this is refused on the CPU (the way out names WebGPU and subsampling). */
export const MAX_CPU_FIT_SECONDS = 600;
/**
 * A leaf of an xRFM tree (rfm/tree.ts; `fit --tree`) holds at most this many rows: its float32 kernel
 * matrix (1.5 GiB) stays within the default WebGPU device budget. On the CPU the leaf is also kept
 * within the CPU fit limits above. Larger data is split into more leaves.
 */
export const MAX_LEAF_ROWS = 20_000;
/**
 * An xRFM tree fitted on one machine's CPU (its leaves in sequence, each within the one-fit limits) is
 * refused when its estimate is over this; `fit --plan` runs the leaves as cluster jobs instead.
 */
export const MAX_CPU_TREE_SECONDS = 6 * MAX_CPU_FIT_SECONDS;
/** Estimated fits longer than this print the estimate before they start. */
export const ANNOUNCE_FIT_SECONDS = 10;

/** ConvRFM: float64 values of the transformed patch sets (training, held-out and AGOP rows x positions x C·q·q): 1 GiB. */
export const MAX_PATCH_VALUES = 2 ** 27;
/** NFA of a conv network: a layer's patch dimension c·kh·kw (a dense layer's input): W^T W and the patch-AGOP are its square in float64. */
export const MAX_PATCH_DIM = 4096;
/**
 * NFA of a conv network on the CPU: estimated multiply-adds, rows x (forward + outputs x backward).
 * The float64 loops run at ~CONV_CPU_MACS per second (bench/conv-nfa.mjs); beyond ~10 minutes the
 * CLI refuses and names WebGPU or fewer rows.
 */
export const CONV_CPU_MACS = 3e8;
export const MAX_CPU_CONV_NFA_MACS = CONV_CPU_MACS * MAX_CPU_FIT_SECONDS;
/** Views: M's eigenvectors are drawn as images up to this many pixels (32 x 32; the decomposition is O(d³) on the page). */
export const MAX_EIGEN_IMAGE_FEATURES = 1024;

/** catapult: training steps and hidden width of the toy and the ReLU lab. */
export const MAX_CATAPULT_STEPS = 1_000_000;
export const MAX_CATAPULT_WIDTH = 65_536;
/** catapult: steps x width (x (batch + n) x d for ReLU, x runs of a sweep); measured ~5e7 units/s (ReLU, CPU) and ~1.4e8 (linear toy): at most ~7 min. */
export const MAX_CATAPULT_WORK = 2e10;
/** Modular-arithmetic tasks: the prime p. Its p^2 pairs x 2p one-hot inputs stay within MAX_CELLS (p <= 406). */
export const MAX_MODULUS = 401;

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/**
 * Refuses a table of `rows` x `columns` float64 cells before it is allocated. `what` names the file (and
 * array); `way` is the way out specific to the format.
 */
export function checkTableSize(what: string, rows: number, columns: number, way = 'subsample the rows first'): void {
  if (rows > MAX_ROWS)
    throw new InputError(`${what}: declares ${rows} rows, over the limit of ${MAX_ROWS} rows for a dataset; ${way}`);
  if (columns > MAX_COLUMNS)
    throw new InputError(
      `${what}: has ${columns} columns, over the limit of ${MAX_COLUMNS} columns for a dataset; select the columns you need first`,
    );
  if (rows * columns > MAX_CELLS)
    throw new InputError(
      `${what}: ${rows} rows x ${columns} columns = ${rows * columns} values (${formatBytes(rows * columns * 8)} as float64), over the limit of ${MAX_CELLS} values (${formatBytes(MAX_CELLS * 8)}); ${way}`,
    );
}

/** grok: largest prime p (p^2 pairs; at r = 0.5 the n_train^2 float64 kernel matrix and its factor take ~0.9 GiB). */
export const MAX_GROK_P = 127;
/** grok: AGOP iterations. */
export const MAX_GROK_ITERS = 200;

/** Deep RFM (rfm/deep.ts): layers, and the random features' width (M_l is width x width, like MAX_FEATURES). */
export const MAX_DEEP_RFM_DEPTH = 64;
export const MAX_DEEP_RFM_WIDTH = MAX_FEATURES;
