// Datasets on disk (Node only): the size is checked from stat before a byte is read.
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors';
import type { Dataset } from './dataset';
import { checkDatasetFileSize, loadDataset, type DatasetSchema, type LoadOptions } from './index';

export async function readDatasetFile(
  path: string,
  options: LoadOptions = {},
  schema?: DatasetSchema,
): Promise<{ dataset: Dataset; schema: DatasetSchema }> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(`${path}: is not a regular file; expected a dataset file`);
    size = info.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `${path}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`}`,
    );
  }
  checkDatasetFileSize(size, path);
  const buf = await readFile(path);
  return loadDataset(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path, options, schema);
}
