// Public entry to the dataset loaders: bytes + file name in, a Dataset and the schema that encodes
// further files (test, predict) the same way out. Pure: no Node imports (see node.ts for files on disk).
import { InputError } from '../errors';
import { MAX_DATASET_BYTES, MAX_TEXT_DATASET_BYTES } from '../limits';
import type { Dataset, Task } from './dataset';
import { parseCsv } from './csv';
import { matrixTable, parseNpy } from './npy';
import { npzTable } from './npz';
import { parquetTable } from './parquet';
import { assertSchema, type DatasetSchema } from './schema';
import { encodeTable, summarizeTable, type LoadOptions, type Table } from './table';

export type { Dataset, Task } from './dataset';
export type { DatasetSchema, FeatureEncoding } from './schema';
export type { LoadOptions } from './table';
export { parseImageShape, type ImageShape } from './images';

export const DATASET_EXTENSIONS: readonly string[] = ['.csv', '.tsv', '.npy', '.npz', '.parquet'];
/** Also read as delimited text, though not advertised in file pickers. */
const EXTRA_TEXT_EXTENSIONS = ['.txt'];
export const DEFAULT_MAX_DATASET_BYTES = MAX_DATASET_BYTES;
const TEXT_EXTENSIONS = ['.csv', '.tsv', ...EXTRA_TEXT_EXTENSIONS];

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]} (${n} bytes)`;
}

export function checkDatasetSize(bytes: number, fileName: string, maxBytes: number = DEFAULT_MAX_DATASET_BYTES): void {
  if (bytes > maxBytes) {
    throw new InputError(
      `${fileName}: is ${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} limit for a dataset; expected a smaller file (subsample it first)`,
    );
  }
}

/**
 * The size check for a file about to be read (from stat, before a byte is read): text formats are
 * parsed as one string, so they have the smaller MAX_TEXT_DATASET_BYTES (core/limits.ts).
 */
export function checkDatasetFileSize(bytes: number, fileName: string): void {
  checkDatasetSize(bytes, fileName);
  const ext = extensionOf(fileName);
  if (TEXT_EXTENSIONS.includes(ext) && bytes > MAX_TEXT_DATASET_BYTES) {
    throw new InputError(
      `${fileName}: is ${formatBytes(bytes)}, over the ${formatBytes(MAX_TEXT_DATASET_BYTES)} limit for a text dataset; expected a smaller file (subsample it first, or save it as .npy or .parquet)`,
    );
  }
}

function extensionOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

async function readTable(bytes: Uint8Array, fileName: string, options: LoadOptions): Promise<Table> {
  const ext = extensionOf(fileName);
  if (bytes.length === 0 && DATASET_EXTENSIONS.concat(EXTRA_TEXT_EXTENSIONS).includes(ext)) {
    throw new InputError(`${fileName}: is empty (0 bytes); expected a dataset`);
  }
  switch (ext) {
    case '.csv':
    case '.txt':
      return parseCsv(bytes, fileName);
    case '.tsv':
      return parseCsv(bytes, fileName, { delimiter: '\t' });
    case '.npy':
      return matrixTable(parseNpy(bytes, fileName), fileName, fileName);
    case '.npz':
      return npzTable(bytes, fileName, options);
    case '.parquet':
      return parquetTable(bytes, fileName);
    default:
      throw new InputError(
        `${fileName}: unknown dataset type ${ext ? `'${ext}'` : '(no extension)'}; expected one of ${[...DATASET_EXTENSIONS, ...EXTRA_TEXT_EXTENSIONS].join(', ')}`,
      );
  }
}

/**
 * Load a dataset from a file's bytes; the format is chosen by the extension of `fileName`, which also names
 * the file in every message. With the training file's `schema`, the file is encoded exactly like training.
 */
export async function loadDataset(
  bytes: Uint8Array,
  fileName: string,
  options: LoadOptions = {},
  schema?: DatasetSchema,
): Promise<{ dataset: Dataset; schema: DatasetSchema }> {
  checkDatasetFileSize(bytes.length, fileName);
  if (schema !== undefined) assertSchema(schema, fileName);
  // An .npz test file finds its target array by the name training gave it.
  const tableOptions = schema && options.target === undefined ? { ...options, target: schema.targetName } : options;
  return encodeTable(await readTable(bytes, fileName, tableOptions), options, schema);
}

/** Rows, column kinds and a suggested target/task, for pickers before the real load. */
export async function inspectDataset(
  bytes: Uint8Array,
  fileName: string,
): Promise<{
  rows: number;
  columns: { name: string; kind: 'numeric' | 'categorical' }[];
  suggestedTarget: string;
  suggestedTask: Task;
}> {
  checkDatasetFileSize(bytes.length, fileName);
  return summarizeTable(await readTable(bytes, fileName, {}));
}
