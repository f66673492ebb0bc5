// Entry of dist/dataset-worker.js: the worker thread that parses datasets for the extension host
// (src/core/data/node.ts datasetWorker). No vscode here: a worker has no extension API.
import { serveDatasetJobs } from '../../core/data/node';

serveDatasetJobs();
