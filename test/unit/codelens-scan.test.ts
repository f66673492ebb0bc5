import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DEFAULT_WEIGHT_EXTENSIONS, scanPythonPaths, type PathLens } from '../../src/extension/codelens/scan';

const opts = {
  datasetExtensions: ['.csv', '.tsv', '.npy', '.npz', '.parquet'],
  weightExtensions: DEFAULT_WEIGHT_EXTENSIONS,
};
const brief = (ls: PathLens[]) => ls.map((l) => `${l.line}:${l.kind}:${l.path}${l.folder ? '/' : ''}`);

test('SummaryWriter: log_dir by keyword or position, default runs/, none for a variable', () => {
  const src = [
    'from torch.utils.tensorboard import SummaryWriter',
    'w1 = SummaryWriter()',
    'w2 = SummaryWriter(log_dir="runs/exp1")',
    "w3 = SummaryWriter('tb/exp2', flush_secs=5)",
    'w4 = SummaryWriter(log_dir=out_dir)',
    'w5 = SummaryWriter(f"runs/{name}")',
    'w6 = torch.utils.tensorboard.SummaryWriter(',
    '    comment="x",',
    '    log_dir="runs/multi")',
  ].join('\n');
  assert.deepEqual(brief(scanPythonPaths(src, opts)), [
    '1:spikes:runs/',
    '2:spikes:runs/exp1/',
    '3:spikes:tb/exp2/',
    '6:spikes:runs/multi/',
  ]);
});

test('CSVLogger: Keras file name; Lightning save_dir/name[/version_N]', () => {
  const src = [
    'cb = CSVLogger("training.csv", append=True)',
    'lg = CSVLogger("logs")',
    'lg = CSVLogger(save_dir="logs", name="mnist")',
    'lg = CSVLogger("logs", "mnist", 3)',
    'lg = CSVLogger("logs", name="mnist", version="v2")',
    'lg = CSVLogger(root, name="mnist")',
  ].join('\n');
  assert.deepEqual(brief(scanPythonPaths(src, opts)), [
    '0:spikes:training.csv',
    '1:spikes:logs/lightning_logs/',
    '2:spikes:logs/mnist/',
    '3:spikes:logs/mnist/version_3/',
    '4:spikes:logs/mnist/v2/',
  ]);
});

test('open(): a .csv/.jsonl opened for writing is a log; opened for reading it is a dataset', () => {
  const src = [
    'f = open("metrics.csv", "w")',
    'with open("log.jsonl", mode="a") as g:',
    'data = open("train.csv")',
    'rows = open("train.csv", "r").read()',
    'notes = open("notes.txt", "w")',
    "h = open(r'C:\\logs\\loss.csv', 'a')",
  ].join('\n');
  assert.deepEqual(brief(scanPythonPaths(src, opts)), [
    '0:spikes:metrics.csv',
    '1:spikes:log.jsonl',
    '2:dataset:train.csv',
    '3:dataset:train.csv',
    '5:spikes:C:\\logs\\loss.csv',
  ]);
});

test('datasets and weights from string literals; comments, URLs, f-strings and docstrings ignored', () => {
  const src = [
    '"""Trains on data/train.csv and saves model.pt."""',
    'X = np.load("data/features.npy")  # or "other.npy"',
    "df = pd.read_parquet('data/table.parquet')",
    'state = torch.load("ckpt/model.pt")',
    'save_file(weights, "out/model.safetensors")',
    'arch = np.load("arrays.npz")',
    'url = "https://example.com/data.csv"',
    'p = f"data/{split}.csv"',
    'q = "plain.CSV"',
    'torch.save(model.state_dict(), "best.pth")',
  ].join('\n');
  assert.deepEqual(brief(scanPythonPaths(src, opts)), [
    '1:dataset:data/features.npy',
    '2:dataset:data/table.parquet',
    '3:weights:ckpt/model.pt',
    '4:weights:out/model.safetensors',
    '5:dataset:arrays.npz',
    '5:weights:arrays.npz',
    '8:dataset:plain.CSV',
    '9:weights:best.pth',
  ]);
});

test('extra dataset extensions from the setting; brackets inside strings do not end a call', () => {
  const src = [
    'w = SummaryWriter(comment="a)b", log_dir="runs/(x)")',
    'd = load("table.data")',
    'def open(path, mode="w"): pass',
  ].join('\n');
  assert.deepEqual(brief(scanPythonPaths(src, { ...opts, datasetExtensions: [...opts.datasetExtensions, '.data'] })), [
    '0:spikes:runs/(x)/',
    '1:dataset:table.data',
  ]);
});
