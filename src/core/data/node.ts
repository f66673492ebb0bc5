// Datasets on disk (Node only): the size is checked from stat before a byte is read.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { CancelledError, InputError } from '../errors';
import type { Dataset } from './dataset';
import { parseMatrix, type LoadedMatrix, type MatrixLoadOptions } from './matrix';
import { checkDatasetFileSize, inspectDataset, loadDataset, type DatasetSchema, type LoadOptions } from './index';

/** Stat + size check + read: the bytes of a dataset-like file, or an InputError naming it. */
async function readChecked(path: string): Promise<Uint8Array> {
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
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A matrix with missing entries (matrix.ts: .npy, dense CSV, long row,col,value) from disk. */
export async function readMatrixFile(path: string, options: MatrixLoadOptions = {}): Promise<LoadedMatrix> {
  return parseMatrix(await readChecked(path), path, options);
}

export async function readDatasetFile(
  path: string,
  options: LoadOptions = {},
  schema?: DatasetSchema,
): Promise<{ dataset: Dataset; schema: DatasetSchema }> {
  return loadDataset(await readChecked(path), path, options, schema);
}

// ---------------------------------------------------------------------------------------------------
// Parsing off the caller's thread. A 600,000-row CSV is ~1.5 s of parsing; in the extension host that
// would hold every other extension. The extension parses in a worker thread: one worker per job (its
// start-up is ~30 ms next to seconds of parsing), terminated on cancel, with its own heap limit so a
// hostile file that exhausts memory ends the job, not the host. The bytes are moved (transferred) to
// the worker and the dataset's arrays moved back, so nothing large is copied.

/** A job for the dataset worker. */
type DatasetJob =
  | { kind: 'load'; bytes: Uint8Array; fileName: string; options: LoadOptions; schema?: DatasetSchema }
  | { kind: 'inspect'; bytes: Uint8Array; fileName: string }
  | { kind: 'matrix'; bytes: Uint8Array; fileName: string; options: MatrixLoadOptions };

/** A loaded file, with the SHA-256 of its bytes (hashed in the worker too: run records keep it). */
export type LoadedFile = { dataset: Dataset; schema: DatasetSchema; sha256: string };
/** inspectDataset's summary, and the bytes handed back for the load that follows. */
export type InspectedFile = Awaited<ReturnType<typeof inspectDataset>> & { bytes: Uint8Array };

type DatasetReply =
  | { ok: true; result: LoadedFile | InspectedFile | LoadedMatrix }
  | { ok: false; error: { input: boolean; message: string } };

/** Heap of a dataset worker: the tables it builds are typed arrays (outside the heap) plus column text. */
const WORKER_HEAP_MB = 2048;

/** The worker side: call once from the worker entry (src/extension/host/datasetWorker.ts). */
export function serveDatasetJobs(): void {
  const port = parentPort;
  if (isMainThread || !port) throw new Error('serveDatasetJobs: not in a worker thread');
  port.once('message', (job: DatasetJob) => {
    const work: Promise<[LoadedFile | InspectedFile | LoadedMatrix, ArrayBuffer[]]> =
      job.kind === 'matrix'
        ? Promise.resolve().then(() => {
            const m = parseMatrix(job.bytes, job.fileName, job.options);
            return [m, [m.data.buffer as ArrayBuffer]];
          })
        : job.kind === 'load'
          ? loadDataset(job.bytes, job.fileName, job.options, job.schema).then((r) => [
              { ...r, sha256: createHash('sha256').update(job.bytes).digest('hex') },
              [r.dataset.X.data.buffer, r.dataset.y.buffer] as ArrayBuffer[],
            ])
          : inspectDataset(job.bytes, job.fileName).then((r) => [
              { ...r, bytes: job.bytes },
              [job.bytes.buffer] as ArrayBuffer[],
            ]);
    work.then(
      ([result, buffers]) => port.postMessage({ ok: true, result } satisfies DatasetReply, [...new Set(buffers)]),
      (e: unknown) => {
        const error = { input: e instanceof InputError, message: e instanceof Error ? e.message : String(e) };
        port.postMessage({ ok: false, error } satisfies DatasetReply);
      },
    );
  });
}

function runDatasetJob<T>(script: string, job: DatasetJob, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(new CancelledError());
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(script, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => finish(() => reject(new CancelledError()));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (reply: DatasetReply) =>
      finish(() => {
        if (reply.ok) resolve(reply.result as T);
        else if (reply.error.input) reject(new InputError(reply.error.message));
        else reject(new Error(`${job.fileName}: ${reply.error.message}`));
      }),
    );
    worker.on('error', (e: Error & { code?: string }) =>
      finish(() =>
        reject(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new InputError(
                `${job.fileName}: reading it needed more than ${WORKER_HEAP_MB} MB of memory; expected a smaller file (subsample it, or save it as .npy or .parquet)`,
              )
            : e,
        ),
      ),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`${job.fileName}: the dataset reader stopped (exit code ${code})`))),
    );
    // The bytes move to the worker (a copy first when they are a view into a larger buffer).
    const bytes = job.bytes.byteLength === job.bytes.buffer.byteLength ? job.bytes : job.bytes.slice();
    worker.postMessage({ ...job, bytes }, [bytes.buffer as ArrayBuffer]);
  });
}

/**
 * loadDataset, inspectDataset and parseMatrix on a worker thread started from `script` (a bundle that calls
 * serveDatasetJobs). The bytes are handed over to the worker, not copied: the caller must not use them
 * afterwards (inspect hands them back as `bytes`).
 */
export function datasetWorker(script: string) {
  return {
    load(
      bytes: Uint8Array,
      fileName: string,
      options: LoadOptions = {},
      schema?: DatasetSchema,
      signal?: AbortSignal,
    ): Promise<LoadedFile> {
      return runDatasetJob(script, { kind: 'load', bytes, fileName, options, schema }, signal);
    },
    inspect(bytes: Uint8Array, fileName: string, signal?: AbortSignal): Promise<InspectedFile> {
      return runDatasetJob(script, { kind: 'inspect', bytes, fileName }, signal);
    },
    /** core/data/matrix.ts parseMatrix: a matrix with missing entries (lin-RFM). */
    matrix(
      bytes: Uint8Array,
      fileName: string,
      options: MatrixLoadOptions = {},
      signal?: AbortSignal,
    ): Promise<LoadedMatrix> {
      return runDatasetJob(script, { kind: 'matrix', bytes, fileName, options }, signal);
    },
  };
}
