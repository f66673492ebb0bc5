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
/** Estimated fits longer than this print the estimate before they start. */
export const ANNOUNCE_FIT_SECONDS = 10;

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
