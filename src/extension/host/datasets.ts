// Dataset parsing for every feature of the extension: off the extension host's thread, so a large
// CSV or Parquet file never holds VS Code (core/data/node.ts datasetWorker). Same signatures as the
// core loaders; lint keeps the extension from calling those directly.
import { join } from 'node:path';
import { datasetWorker } from '../../core/data/node';

/** dist/dataset-worker.js, next to dist/extension.js (esbuild.mjs builds both). */
const worker = datasetWorker(join(__dirname, 'dataset-worker.js'));

export const loadDataset = worker.load;
export const inspectDataset = worker.inspect;
export const loadMatrixFile = worker.matrix;
