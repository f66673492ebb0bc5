// feature-lens collapse WEIGHTS DATA --target COL: neural collapse layer by layer in a trained network
// (docs/science.md §7): NC1 and NC2 of the data and of each hidden layer's activations, on DATA and on --test.
import { parseBackendChoice } from '../../core/compute';
import { collapseReport, collapseStudy } from '../../core/nfa/collapse';
import type { Dataset } from '../../core/data/dataset';
import { parseImageShape } from '../../core/data/images';
import { readDatasetFile } from '../../core/data/node';
import { InputError } from '../../core/errors';
import { ACTIVATIONS, isActivation } from '../../core/nfa/activation';
import { hostCollapseCompute } from '../../core/node';
import { standardize, standardizer } from '../../core/rfm/fit';
import { parseCommand, table, twoPositionals, type CommandSpec } from '../io';
import { jsonOutputOptions, OUTPUT_RULES, planOutputs } from '../output';
import { convArchFlags, readNetwork, SPEC as NFA_SPEC } from './nfa';

const nfaOption = NFA_SPEC.options;

export const SPEC = {
  name: 'collapse',
  summary:
    "Neural collapse layer by layer (docs/science.md §7) in a trained dense or conv network: NC1 (tr Σ_W / tr Σ_B and the classic tr(Σ_W Σ_B⁺)/K) and NC2 (distance of the class means from a simplex) of the data and of each hidden layer's activations, on DATA and separately on --test, and the share of within-class variability each weight's top right singular vectors keep.",
  synopsis: 'WEIGHTS DATA --target COL [options]',
  args: [
    NFA_SPEC.args[0],
    [
      'DATA',
      'the rows the network is measured on (.csv, .tsv, .npy, .npz, .parquet): every column but the target is a network input, fed as stored (categorical columns one-hot encoded)',
    ],
  ],
  options: {
    target: {
      type: 'string',
      arg: 'COL',
      help: 'the class label column of DATA (a classification target: categorical or integer labels)',
      default: 'required',
    },
    test: {
      type: 'string',
      arg: 'TEST',
      help: 'held-out rows with the same columns, measured separately (labels the training rows lack are dropped; classes it lacks are left out of its metrics)',
      default: 'none',
    },
    activation: nfaOption.activation,
    layers: nfaOption.layers,
    arch: nfaOption.arch,
    stride: nfaOption.stride,
    padding: nfaOption.padding,
    pool: nfaOption.pool,
    'image-shape': nfaOption['image-shape'],
    'channels-last': nfaOption['channels-last'],
    standardize: {
      type: 'boolean',
      help: 'standardise the input columns (mean/std of DATA, applied to --test too) before the network',
      default: 'off: fed as stored',
    },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when an adapter exists, else the CPU; a device failure continues on the CPU), webgpu (f32 forward pass) or cpu (float64); the metrics are float64 either way',
      default: 'auto',
    },
    ...jsonOutputOptions('write the report as JSON (- for standard output)'),
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

/** Class indices of a loaded classification dataset (-1: a label the training file does not have). */
function labelsOf(d: Dataset): Int32Array {
  return Int32Array.from(d.y, (v) => (Number.isInteger(v) && v >= 0 ? v : -1));
}

/** 4 significant digits; tiny NC1 values stay readable. */
const sig = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toPrecision(4);

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: v, positionals } = parsed;
  const [weightsPath, dataPath] = twoPositionals(positionals, 'WEIGHTS and DATA', 'collapse');
  if (!v.target)
    throw new InputError(
      `--target: required (the class label column of ${dataPath}); see feature-lens collapse --help`,
    );
  const testPath = v.test as string | undefined;
  const outputs = await planOutputs(
    { '--json': v.json as string | undefined },
    { force: !!v.force, inputs: [weightsPath, dataPath, testPath, v.arch as string | undefined] },
  );
  const say = outputs['--json']?.stdout ? process.stderr : process.stdout;
  const choice = parseBackendChoice(v.backend ?? 'auto', '--backend');
  const activation = v.activation ?? 'relu';
  if (!isActivation(activation))
    throw new InputError(`--activation: expected one of ${ACTIVATIONS.join(', ')}, got '${activation}'`);
  const arch = await convArchFlags(v);
  const target = /^\d+$/.test(v.target as string) ? Number(v.target) : (v.target as string);
  const imageShape =
    v['image-shape'] === undefined ? undefined : parseImageShape(v['image-shape'] as string, '--image-shape');
  const load = { target, imageShape, ...(v['channels-last'] ? { channelsLast: true } : {}) };
  const { dataset, schema } = await readDatasetFile(dataPath, load);
  if (dataset.task !== 'classification' || !dataset.classes)
    throw new InputError(
      `${dataPath}: target '${dataset.targetName}' is continuous (read as a regression target); neural collapse is measured per class: give a column of class labels (categorical or integer values) as --target`,
    );
  if (dataset.classes.length < 2)
    throw new InputError(
      `${dataPath}: target '${dataset.targetName}' has ${dataset.classes.length} class; neural collapse needs at least 2`,
    );
  const test = testPath ? (await readDatasetFile(testPath, load, schema)).dataset : null;
  const { net } = await readNetwork(weightsPath, dataset, {
    layers: v.layers as string | undefined,
    activation,
    init: undefined,
    inputLabel: `${dataPath}: ${dataset.featureNames.length > 12 ? `${dataset.featureNames.length} columns` : dataset.featureNames.join(', ')} besides the target '${v.target}'`,
    arch,
    backend: choice,
    who: 'collapse',
  });
  const scale = v.standardize ? standardizer(dataset.X) : null;
  const trainLabels = labelsOf(dataset);
  const testLabels = test ? labelsOf(test) : null;
  if (testLabels) {
    const unseen = testLabels.filter((c) => c < 0).length;
    if (unseen)
      process.stderr.write(
        `collapse: ${testPath}: ${unseen} row(s) have a label ${dataPath} does not have; they are left out of the held-out metrics\n`,
      );
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let result;
  try {
    result = await collapseStudy(
      {
        net,
        classes: dataset.classes,
        train: { X: scale ? standardize(dataset.X, scale) : dataset.X, labels: trainLabels },
        test: test && testLabels ? { X: scale ? standardize(test.X, scale) : test.X, labels: testLabels } : null,
      },
      hostCollapseCompute(choice, { host: 'this process' }),
      { signal: controller.signal },
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (result.note) process.stderr.write(`note: ran on ${result.note}\n`);
  if (result.testClasses && result.testClasses.length < result.classes.length)
    process.stderr.write(
      `collapse: ${testPath} has ${result.testClasses.length} of the ${result.classes.length} classes; its metrics are over those\n`,
    );
  if (v.json) {
    const report = collapseReport(result, {
      weights: weightsPath,
      data: dataPath,
      test: testPath ?? null,
      target: dataset.targetName,
      activation,
      standardize: !!v.standardize,
    });
    await outputs['--json']?.write(JSON.stringify(report, null, 1) + '\n');
  }
  const held = !!result.input.test;
  const header = [
    'layer',
    'width',
    'NC1',
    'NC1 classic',
    'NC2',
    ...(held ? ['test NC1', 'test NC1 classic', 'test NC2'] : []),
    'its W top-k keeps (within / between)',
  ];
  const rows = [
    {
      name: 'input',
      width: dataset.X.cols,
      train: result.input.train,
      test: result.input.test,
      share: '',
    },
    ...result.layers.map((l) => ({
      name: l.name,
      width: l.width,
      train: l.train,
      test: l.test,
      share: l.singular ? `k=${l.singular.k}: ${sig(l.singular.withinKept)} / ${sig(l.singular.betweenKept)}` : '-',
    })),
  ];
  say.write(
    `Neural collapse: ${weightsPath} on ${dataPath} (${result.rows} rows, ${result.classes.length} classes${test ? `; held-out ${testPath}, ${result.testRows} rows` : ''}; ${activation}; ${result.device})\n`,
  );
  say.write(
    table(
      header,
      rows.map((r) => [
        r.name,
        r.width,
        sig(r.train.nc1),
        sig(r.train.nc1Classic),
        sig(r.train.nc2),
        ...(held ? [sig(r.test?.nc1), sig(r.test?.nc1Classic), sig(r.test?.nc2)] : []),
        r.share,
      ]),
    ) + '\n',
  );
  if (result.output)
    say.write(
      `output layer ${result.output.weight}: its top-${result.output.k} right singular vectors keep ${sig(result.output.withinKept)} of the last hidden layer's within-class variability and ${sig(result.output.betweenKept)} of its between-class variability\n`,
    );
  return 0;
}
