// feature-lens nfa WEIGHTS DATA --target COL: the Neural Feature Ansatz for a trained dense network
// (docs/science.md §2): per layer, NFM_l against the network AGOP at layer l's input, plus an RFM fitted on
// the same rows against NFM_1.
import { parseBackendChoice } from '../../core/compute';
import type { Dataset } from '../../core/data/dataset';
import { parseImageShape } from '../../core/data/images';
import { readDatasetFile } from '../../core/data/node';
import { InputError } from '../../core/errors';
import { ACTIVATIONS, isActivation, type Activation } from '../../core/nfa/activation';
import {
  DEFAULT_CONV,
  describeConvNetwork,
  hasConvLayers,
  isConvNet,
  parseConvArch,
  parsePool,
  readConvNetwork,
  type ConvArch,
  type ConvNet,
} from '../../core/nfa/convnet';
import {
  inferLayerChain,
  loadMatchingWeights,
  loadMlp,
  networkTensorName,
  networkView,
  suspiciousIgnored,
  type LayerChain,
  type Mlp,
} from '../../core/nfa/network';
import { nfaReport } from '../../core/nfa/report';
import { DEFAULT_RFM_ROWS, runNfaStudy } from '../../core/nfa/study';
import { hostNfaStudy } from '../../core/node';
import { standardize, standardizer } from '../../core/rfm/fit';
import { DEFAULT_RFM_OPTIONS } from '../../core/rfm/types';
import { openWeights, type WeightFile } from '../../core/weights';
import { fileByteSource } from '../../core/weights/node';
import { readFile } from 'node:fs/promises';
import { fmt, numberFlag, parseCommand, requireInputFile, table, twoPositionals, type CommandSpec } from '../io';
import { jsonOutputOptions, OUTPUT_RULES, planOutputs } from '../output';

export const SPEC = {
  name: 'nfa',
  summary:
    'The Neural Feature Ansatz (docs/science.md §2, §6 for conv layers) for a trained dense or conv network: per layer, the NFM against the network AGOP at its input, and an RFM fitted on the same rows against NFM_1.',
  synopsis: 'WEIGHTS DATA --target COL [options]',
  args: [
    [
      'WEIGHTS',
      ".safetensors, PyTorch .pt/.pth (a state_dict, or a checkpoint dict holding one), .npz or .npy of a dense network, or of a conv network (4-D '*.weight' tensors are Conv2d layers, then a flatten and the 2-D dense layers; see --arch)",
    ],
    [
      'DATA',
      'dataset (.csv, .tsv, .npy, .npz, .parquet); every column but the target is a network input, fed as stored (categorical columns one-hot encoded); for a conv network each row is an image flattened C,H,W (shape from the loader, --arch "input", or C from the first conv layer and a square H = W)',
    ],
  ],
  options: {
    target: {
      type: 'string',
      arg: 'COL',
      help: 'the target column of DATA (used by the RFM comparison)',
      default: 'required',
    },
    activation: { type: 'string', arg: 'NAME', help: ACTIVATIONS.join(', '), default: 'relu' },
    layers: {
      type: 'string',
      arg: 'A,B,...',
      help: 'dense layers, input to output: weight tensors or module names (fc1 = fc1.weight)',
      default: 'inferred from the tensor shapes',
    },
    init: {
      type: 'string',
      arg: 'FILE',
      help: 'initial weights: NFM_l = (W_l - W0_l)^T (W_l - W0_l)',
      default: 'none: NFM_l = W_l^T W_l',
    },
    arch: {
      type: 'string',
      arg: 'FILE',
      help: 'conv networks: JSON of what a state_dict does not record, e.g. {"input": [3, 32, 32], "padding": 1, "layers": {"conv1": {"stride": 2, "pool": "max:2"}}, "order": [...]} (top-level stride/padding/pool apply to every conv layer, "layers" per layer)',
      default: "PyTorch's defaults",
    },
    stride: { type: 'string', arg: 'N', help: 'conv networks: stride of every conv layer', default: "1 (PyTorch's)" },
    padding: { type: 'string', arg: 'N', help: 'conv networks: zero padding of every conv layer', default: '0' },
    pool: {
      type: 'string',
      arg: 'P',
      help: "conv networks: pooling after every conv layer's activation: max:K, avg:K, max:K:S (size K, stride S, default K) or none",
      default: 'none',
    },
    'image-shape': {
      type: 'string',
      arg: 'C,H,W',
      help: "conv networks: the image shape of a table's pixel columns (an .npz whose X is (N, C, H, W) or (N, H, W) carries its own)",
      default: 'from the loader, --arch "input", or square',
    },
    'channels-last': {
      type: 'boolean',
      help: 'conv networks: pixels are stored (H, W, C) (as for convrfm)',
      default: 'off: (C, H, W)',
    },
    standardize: {
      type: 'boolean',
      help: 'standardise the input columns (mean/std of DATA) before the network',
      default: 'off: fed as stored',
    },
    'no-rfm': { type: 'boolean', help: 'skip the RFM comparison', default: 'off' },
    'rfm-iters': { type: 'string', arg: 'N', help: 'RFM iterations', default: String(DEFAULT_RFM_OPTIONS.iters) },
    'rfm-bandwidth': {
      type: 'string',
      arg: 'L',
      help: 'RFM Laplace bandwidth',
      default: String(DEFAULT_RFM_OPTIONS.bandwidth),
    },
    'rfm-rows': {
      type: 'string',
      arg: 'N',
      help: 'fit the RFM on at most N rows (seeded subsample): its solve is O(n^3)',
      default: String(DEFAULT_RFM_ROWS),
    },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when an adapter exists, else the CPU; a device failure continues on the CPU), webgpu (f32) or cpu (float64)',
      default: 'auto',
    },
    matrices: {
      type: 'boolean',
      help: 'include NFM, AGOP and AGOP^1/2 in the JSON (conv layers: W^T W and the patch-AGOP, (C q q) x (C q q))',
      default: 'off',
    },
    ...jsonOutputOptions('write the report as JSON (- for standard output)'),
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

export async function openWeightFile(path: string): Promise<{ file: WeightFile; close: () => Promise<void> }> {
  await requireInputFile(path, 'a weights file (.safetensors, .pt/.pth, .npz, .npy)');
  let src;
  try {
    src = await fileByteSource(path);
  } catch (e) {
    throw new InputError(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return { file: await openWeights(src, path), close: () => src.close() };
  } catch (e) {
    await src.close();
    throw e;
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: v, positionals } = parsed;
  const [weightsPath, dataPath] = twoPositionals(positionals, 'WEIGHTS and DATA', 'nfa');
  if (!v.target)
    throw new InputError(`--target: required (the target column of ${dataPath}); see feature-lens nfa --help`);
  const outputs = await planOutputs(
    { '--json': v.json as string | undefined },
    { force: !!v.force, inputs: [weightsPath, dataPath, v.init as string | undefined, v.arch as string | undefined] },
  );
  // With --json -, the table goes to stderr so standard output is the JSON alone.
  const say = outputs['--json']?.stdout ? process.stderr : process.stdout;
  const choice = parseBackendChoice(v.backend ?? 'auto', '--backend');
  const activation = v.activation ?? 'relu';
  if (!isActivation(activation))
    throw new InputError(`--activation: expected one of ${ACTIVATIONS.join(', ')}, got '${activation}'`);
  const rfmIters =
    numberFlag(
      'rfm-iters',
      v['rfm-iters'] as string | undefined,
      (x) => Number.isInteger(x) && x >= 0 && x <= 100,
      'an integer 0..100',
    ) ?? DEFAULT_RFM_OPTIONS.iters;
  const rfmRows =
    numberFlag(
      'rfm-rows',
      v['rfm-rows'] as string | undefined,
      (x) => Number.isInteger(x) && x >= 2,
      'an integer >= 2',
    ) ?? DEFAULT_RFM_ROWS;
  const rfmBandwidth =
    numberFlag('rfm-bandwidth', v['rfm-bandwidth'] as string | undefined, (x) => x > 0, 'a positive number') ??
    DEFAULT_RFM_OPTIONS.bandwidth;

  const arch = await convArchFlags(v);

  const target = /^\d+$/.test(v.target as string) ? Number(v.target) : (v.target as string);
  const imageShape =
    v['image-shape'] === undefined ? undefined : parseImageShape(v['image-shape'] as string, '--image-shape');
  const dataset = (
    await readDatasetFile(dataPath, { target, imageShape, ...(v['channels-last'] ? { channelsLast: true } : {}) })
  ).dataset;
  const { net, chain, initWeights } = await readNetwork(weightsPath, dataset, {
    layers: v.layers as string | undefined,
    activation,
    init: v.init as string | undefined,
    inputLabel: `${dataPath}: ${dataset.featureNames.length > 12 ? `${dataset.featureNames.length} columns` : dataset.featureNames.join(', ')} besides the target '${v.target}'`,
    arch,
    backend: choice,
  });
  if (isConvNet(net) && net.layers[0].kind === 'conv' && !v['no-rfm'])
    process.stderr.write(
      'nfa: no RFM comparison for a conv network (its first NFM is over patches, an RFM M over the inputs)\n',
    );
  const study = await runNfaStudy(
    {
      net,
      dataset,
      X: v.standardize ? standardize(dataset.X, standardizer(dataset.X)) : dataset.X,
      initWeights,
      rfm: v['no-rfm']
        ? { kind: 'none' }
        : { kind: 'fit', iters: rfmIters, bandwidth: rfmBandwidth, rows: rfmRows, seed: DEFAULT_RFM_OPTIONS.seed },
    },
    hostNfaStudy(choice, { host: 'this process' }),
  );
  if (study.note) process.stderr.write(`note: ran on ${study.note}\n`);
  const { nfa: result, rfm } = study;

  if (v.json) {
    const report = nfaReport(
      study,
      {
        weights: weightsPath,
        data: dataPath,
        target: v.target as string,
        activation,
        standardize: !!v.standardize,
        layer_order: chain.orderedBy,
        ignored: chain.ignored,
      },
      { matrices: !!v.matrices },
    );
    await outputs['--json']?.write(JSON.stringify(report, null, 1) + '\n');
  }
  const header = [
    'layer',
    'shape',
    'cos AGOP',
    'cos AGOP^1/2',
    'pearson AGOP',
    'pearson AGOP^1/2',
    'pearson^1/2 offdiag',
  ];
  const body = result.layers.map((l) => [
    l.name,
    l.conv ? `conv ${l.conv.weightShape.join('x')}` : `${l.shape[0]}x${l.shape[1]}`,
    fmt(l.correlation.cosine.agop),
    fmt(l.correlation.cosine.sqrt_agop),
    fmt(l.correlation.pearson.agop),
    fmt(l.correlation.pearson.sqrt_agop),
    fmt(l.correlation.pearson_offdiag.sqrt_agop),
  ]);
  say.write(
    `NFA: ${weightsPath} on ${dataPath} (${result.rows} rows, ${activation}${result.minusInit ? ', NFM minus init' : ''}${v.standardize ? ', standardised' : ''})\n`,
  );
  say.write(table(header, body) + '\n');
  if (rfm) {
    const c = rfm.correlation;
    say.write(
      `RFM M vs NFM of ${rfm.comparedWith}: pearson ${fmt(c.pearson.agop)} (M), ${fmt(c.pearson.sqrt_agop)} (M^1/2); cosine ${fmt(c.cosine.agop)}, ${fmt(c.cosine.sqrt_agop)}\n`,
    );
  }
  return 0;
}

/** The conv architecture from --arch FILE and the --stride/--padding/--pool defaults (nfa and collapse). */
export async function convArchFlags(v: {
  arch?: string | boolean;
  stride?: string | boolean;
  padding?: string | boolean;
  pool?: string | boolean;
}): Promise<ConvArch> {
  const convBase = {
    stride:
      numberFlag('stride', v.stride as string | undefined, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1') ??
      DEFAULT_CONV.stride,
    padding:
      numberFlag('padding', v.padding as string | undefined, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0') ??
      DEFAULT_CONV.padding,
    pool: v.pool !== undefined ? parsePool(v.pool as string, '--pool') : DEFAULT_CONV.pool,
  };
  return v.arch
    ? parseConvArch(await readJsonFile(v.arch as string), v.arch as string, convBase)
    : { defaults: convBase, perLayer: {} };
}

async function readJsonFile(path: string): Promise<unknown> {
  await requireInputFile(path, 'an architecture JSON file');
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The dense or conv chain of WEIGHTS that takes DATA's inputs, loaded (the file is closed again), and --init's
 * matching weights. Notes on standard error start with `o.who` (default `nfa`; `collapse` reads networks too).
 */
export async function readNetwork(
  weightsPath: string,
  dataset: Dataset,
  o: {
    layers: string | undefined;
    activation: Activation;
    init: string | undefined;
    inputLabel: string;
    arch: ConvArch;
    backend: string;
    who?: string;
  },
): Promise<{ net: Mlp | ConvNet; chain: Pick<LayerChain, 'orderedBy' | 'ignored'>; initWeights?: Float64Array[] }> {
  const who = o.who ?? 'nfa';
  const { file, close } = await openWeightFile(weightsPath);
  try {
    const weights = networkView(file);
    if (file.modelScope)
      process.stderr.write(
        `${who}: the network is the checkpoint's '${file.modelScope}' (${file.tensors.length - weights.tensors.length} other tensors, ${file.metadata.length} other entries)\n`,
      );
    if (hasConvLayers(weights.tensors)) {
      if (o.layers)
        throw new InputError(
          `--layers: lists the layers of a dense network; ${weightsPath} holds Conv2d weights (order them with --arch FILE's "order")`,
        );
      const init = o.init ? await openWeightFile(o.init) : null;
      try {
        const r = await readConvNetwork(weights, weightsPath, {
          inputDim: dataset.X.cols,
          rows: dataset.X.rows,
          imageShape: dataset.imageShape,
          arch: o.arch,
          inputLabel: o.inputLabel,
          fileOrder: weights.savedOrder,
          activation: o.activation,
          backend: o.backend,
          init: init ? networkView(init.file) : undefined,
        });
        process.stderr.write(`${who}: ${describeConvNetwork(r.chain)}\n`);
        if (r.chain.ignored.length)
          process.stderr.write(`${who}: not part of the network, ignored: ${r.chain.ignored.join(', ')}\n`);
        const skipped = suspiciousIgnored(r.chain, weights.tensors);
        if (skipped.length)
          process.stderr.write(
            `${who}: warning: ${skipped.join(', ')} look like layers of the network (norm layers or an unmatched bias); they are skipped, so the numbers are for the conv and dense layers alone\n`,
          );
        return r;
      } finally {
        await init?.close();
      }
    }
    const chain = inferLayerChain(weights.tensors, weightsPath, {
      layers: o.layers
        ?.split(',')
        .map((s) => networkTensorName(file, s.trim()))
        .filter(Boolean),
      inputDim: dataset.X.cols,
      inputLabel: o.inputLabel,
      fileOrder: weights.savedOrder,
    });
    process.stderr.write(
      `${who}: layers (${chain.orderedBy} order): ${chain.layers.map((l) => `${l.name} [${l.outDim}x${l.inDim}]`).join(' -> ')}\n`,
    );
    if (chain.ignored.length)
      process.stderr.write(`${who}: not part of the dense chain, ignored: ${chain.ignored.join(', ')}\n`);
    const skipped = suspiciousIgnored(chain, weights.tensors);
    if (skipped.length) {
      process.stderr.write(
        `${who}: warning: ${skipped.join(', ')} look like layers of the network (norm, embedding, convolution or an unmatched bias); they are skipped, so the numbers are for the dense chain alone\n`,
      );
    }
    const net = await loadMlp(weights, chain, o.activation);
    if (!o.init) return { net, chain };
    const init = await openWeightFile(o.init);
    try {
      return { net, chain, initWeights: await loadMatchingWeights(networkView(init.file), chain) };
    } finally {
      await init.close();
    }
  } finally {
    await close();
  }
}
