// feature-lens nfa WEIGHTS DATA --target COL: the Neural Feature Ansatz for a trained dense network
// (SCIENCE.md §2): per layer, NFM_l against the network AGOP at layer l's input, plus an RFM fitted on
// the same rows against NFM_1.
import { resolve } from 'node:path';
import { createBackend, createNfaBackend } from '../../core/node';
import type { BackendChoice } from '../../core/compute';
import { BackendError } from '../../core/errors';
import type { Dataset } from '../../core/data/dataset';
import { readDatasetFile } from '../../core/data/node';
import { InputError } from '../../core/errors';
import { takeRows, type Mat } from '../../core/mat';
import { permutation } from '../../core/random';
import { isActivation, type Activation } from '../../core/nfa/activation';
import { CpuNfaBackend, type NfaBackend } from '../../core/nfa/backend';
import { computeNfa, rfmCorrelations, type NfaResult } from '../../core/nfa/compute';
import type { NfaCorrelations } from '../../core/nfa/correlation';
import {
  inferLayerChain,
  loadMatchingWeights,
  loadMlp,
  networkTensorName,
  networkView,
  suspiciousIgnored,
} from '../../core/nfa/network';
import { fullMatrix } from '../../core/rfm/feature-matrix';
import { fitRfm, standardize, standardizer } from '../../core/rfm/fit';
import { DEFAULT_RFM_OPTIONS } from '../../core/rfm/types';
import { openWeights, type WeightFile } from '../../core/weights';
import { fileByteSource } from '../../core/weights/node';
import { fmt, numberFlag, parseCli, table, writeFileAtomic } from '../io';

const DEFAULT_RFM_ROWS = 4000;

const USAGE = `usage: feature-lens nfa WEIGHTS DATA --target COL [options]

WEIGHTS  .safetensors, PyTorch .pt/.pth (a state_dict, or a checkpoint dict holding one), .npz or .npy
         of a dense network
DATA     dataset (.csv, .tsv, .npy, .npz, .parquet); every column but the target is a network input,
         fed as stored (categorical columns one-hot encoded by the loader)

options:
  --target COL        target column (used by the RFM comparison)
  --activation NAME   relu (default), gelu, tanh, sigmoid, identity
  --layers A,B,...    dense layers, input to output: weight tensors or module names (fc1 = fc1.weight)
  --init FILE         initial weights: NFM_l = (W_l - W0_l)^T (W_l - W0_l)
  --standardize       standardise the input columns (training mean/std) before the network
  --no-rfm            skip the RFM comparison
  --rfm-iters N       RFM iterations (default ${DEFAULT_RFM_OPTIONS.iters})
  --rfm-bandwidth L   RFM Laplace bandwidth (default ${DEFAULT_RFM_OPTIONS.bandwidth})
  --backend B         network AGOPs and the RFM fit on cpu (default, float64), webgpu (f32 on the
                      device) or auto (WebGPU when an adapter exists, else the CPU)
  --rfm-rows N        fit the RFM on at most N rows (seeded subsample; default ${DEFAULT_RFM_ROWS}): its solve is O(n^3)
  --matrices          include NFM, AGOP and AGOP^1/2 in the JSON
  --json OUT          write the report as JSON`;

async function openWeightFile(path: string): Promise<{ file: WeightFile; close: () => Promise<void> }> {
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

function rows(a: Float64Array, d: number): number[][] {
  return Array.from({ length: d }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
}

/** RFM comparisons are against M and M^(1/2), so the pair is renamed from agop/sqrt_agop. */
function asM(c: NfaCorrelations) {
  const pair = (p: { agop: number; sqrt_agop: number }) => ({ m: p.agop, sqrt_m: p.sqrt_agop });
  return {
    cosine: pair(c.cosine),
    pearson: pair(c.pearson),
    cosine_offdiag: pair(c.cosine_offdiag),
    pearson_offdiag: pair(c.pearson_offdiag),
  };
}

export function nfaReportJson(result: NfaResult, extra: Record<string, unknown>, withMatrices: boolean) {
  return {
    ...extra,
    rows: result.rows,
    backend: result.backend,
    device: result.device,
    minus_init: result.minusInit,
    layers: result.layers.map((l) => ({
      name: l.name,
      shape: l.shape,
      correlation: l.correlation,
      top_eigenvectors: l.eigen,
      ...(withMatrices
        ? { nfm: rows(l.nfm, l.shape[1]), agop: rows(l.agop, l.shape[1]), sqrt_agop: rows(l.sqrtAgop, l.shape[1]) }
        : {}),
    })),
  };
}

/** Runs `work` on the chosen NFA backend; under auto, a device failure is retried on the CPU with a note. */
async function computeNfaOn<T>(choice: BackendChoice, work: (backend: NfaBackend) => Promise<T>): Promise<T> {
  const { backend, note } = await createNfaBackend(choice);
  if (note) process.stderr.write(`note: ${note}\n`);
  try {
    return await work(backend);
  } catch (e) {
    if (!(e instanceof BackendError) || choice !== 'auto' || backend.name === 'cpu') throw e;
    process.stderr.write(`note: ${e.message}; continuing on the CPU\n`);
    return work(new CpuNfaBackend());
  } finally {
    backend.dispose();
  }
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { values: v, positionals } = parseCli(
    args,
    {
      target: { type: 'string' },
      activation: { type: 'string', default: 'relu' },
      layers: { type: 'string' },
      init: { type: 'string' },
      standardize: { type: 'boolean', default: false },
      'no-rfm': { type: 'boolean', default: false },
      'rfm-iters': { type: 'string' },
      'rfm-bandwidth': { type: 'string' },
      'rfm-rows': { type: 'string' },
      backend: { type: 'string', default: 'cpu' },
      matrices: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length !== 2)
    throw new InputError(`expected WEIGHTS and DATA, got ${positionals.length} positional argument(s)\n${USAGE}`);
  const [weightsPath, dataPath] = positionals;
  if (!v.target) throw new InputError(`--target: required (the target column of ${dataPath})\n${USAGE}`);
  if (v.json) {
    const out = resolve(v.json as string);
    const clash = [weightsPath, dataPath, v.init as string | undefined].find(
      (p) => p !== undefined && resolve(p) === out,
    );
    if (clash) throw new InputError(`--json: ${v.json} is an input file (${clash}); choose another output path`);
  }
  const backendChoice = v.backend as string;
  if (!['auto', 'cpu', 'webgpu'].includes(backendChoice))
    throw new InputError(`--backend: expected auto, cpu or webgpu, got '${backendChoice}'`);
  const activation = v.activation as string;
  if (!isActivation(activation))
    throw new InputError(`--activation: expected relu, gelu, tanh, sigmoid or identity, got '${activation}'`);
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

  const { file, close } = await openWeightFile(weightsPath);
  let result: NfaResult;
  let chainInfo: { order: string; ignored: readonly string[] };
  let dataset: Dataset;
  let X: Mat;
  try {
    const target = /^\d+$/.test(v.target as string) ? Number(v.target) : (v.target as string);
    dataset = (await readDatasetFile(dataPath, { target })).dataset;
    const weights = networkView(file);
    if (file.modelScope)
      process.stderr.write(
        `nfa: the network is the checkpoint's '${file.modelScope}' (${file.tensors.length - weights.tensors.length} other tensors, ${file.metadata.length} other entries)\n`,
      );
    const chain = inferLayerChain(weights.tensors, weightsPath, {
      layers: v.layers
        ? (v.layers as string)
            .split(',')
            .map((s) => networkTensorName(file, s.trim()))
            .filter(Boolean)
        : undefined,
      inputDim: dataset.X.cols,
      inputLabel: `${dataPath}: ${dataset.featureNames.join(', ')} besides the target '${v.target}'`,
      fileOrder: weights.savedOrder,
    });
    chainInfo = { order: chain.orderedBy, ignored: chain.ignored };
    process.stderr.write(
      `nfa: layers (${chain.orderedBy} order): ${chain.layers.map((l) => `${l.name} [${l.outDim}x${l.inDim}]`).join(' -> ')}\n`,
    );
    if (chain.ignored.length)
      process.stderr.write(`nfa: not part of the dense chain, ignored: ${chain.ignored.join(', ')}\n`);
    const skipped = suspiciousIgnored(chain, weights.tensors);
    if (skipped.length) {
      process.stderr.write(
        `nfa: warning: ${skipped.join(', ')} look like layers of the network (norm, embedding, convolution or an unmatched bias); they are skipped, so the numbers are for the dense chain alone\n`,
      );
    }
    const net = await loadMlp(weights, chain, activation as Activation);
    let initWeights: Float64Array[] | undefined;
    if (v.init) {
      const init = await openWeightFile(v.init as string);
      try {
        initWeights = await loadMatchingWeights(networkView(init.file), chain);
      } finally {
        await init.close();
      }
    }
    X = v.standardize ? standardize(dataset.X, standardizer(dataset.X)) : dataset.X;
    result = await computeNfaOn(backendChoice as BackendChoice, (backend) =>
      computeNfa(net, X, backend, { initWeights }),
    );
  } finally {
    await close();
  }

  let rfm: Record<string, unknown> | null = null;
  if (!v['no-rfm']) {
    const { backend, note } = await createBackend(backendChoice as BackendChoice);
    if (note) process.stderr.write(`note: ${note}\n`);
    try {
      // The RFM sees exactly the network's inputs: no further standardisation inside the fit.
      let rfmData: Dataset = { ...dataset, X };
      if (X.rows > rfmRows) {
        const idx = permutation(X.rows, DEFAULT_RFM_OPTIONS.seed).subarray(0, rfmRows);
        rfmData = { ...rfmData, X: takeRows(X, idx), y: Float64Array.from(idx, (i) => dataset.y[i]) };
      }
      const fit = await fitRfm(rfmData, { standardize: false, iters: rfmIters, bandwidth: rfmBandwidth }, { backend });
      const d = X.cols;
      const corr = rfmCorrelations(result.layers[0].nfm, fullMatrix(fit.model.M), d);
      rfm = {
        compared_with: result.layers[0].name,
        rows: rfmData.X.rows,
        kernel: fit.options.kernel,
        bandwidth: fit.options.bandwidth,
        reg: fit.options.reg,
        iters: fit.options.iters,
        agop_power: fit.options.agopPower,
        task: fit.task,
        train_metric: fit.final.trainMetric,
        device: fit.device,
        correlation: asM(corr),
        ...(v.matrices ? { M: rows(fullMatrix(fit.model.M), d) } : {}),
      };
    } finally {
      backend.dispose();
    }
  }

  if (v.json) {
    const report = {
      ...nfaReportJson(
        result,
        {
          weights: weightsPath,
          data: dataPath,
          target: v.target,
          activation,
          standardize: v.standardize,
          layer_order: chainInfo.order,
          ignored: chainInfo.ignored,
        },
        v.matrices as boolean,
      ),
      rfm,
    };
    await writeFileAtomic(v.json as string, JSON.stringify(report, null, 1) + '\n');
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
    `${l.shape[0]}x${l.shape[1]}`,
    fmt(l.correlation.cosine.agop),
    fmt(l.correlation.cosine.sqrt_agop),
    fmt(l.correlation.pearson.agop),
    fmt(l.correlation.pearson.sqrt_agop),
    fmt(l.correlation.pearson_offdiag.sqrt_agop),
  ]);
  process.stdout.write(
    `NFA: ${weightsPath} on ${dataPath} (${result.rows} rows, ${activation}${result.minusInit ? ', NFM minus init' : ''}${v.standardize ? ', standardised' : ''})\n`,
  );
  process.stdout.write(table(header, body) + '\n');
  if (rfm) {
    const c = rfm.correlation as ReturnType<typeof asM>;
    process.stdout.write(
      `RFM M vs NFM of ${result.layers[0].name}: pearson ${fmt(c.pearson.m)} (M), ${fmt(c.pearson.sqrt_m)} (M^1/2); cosine ${fmt(c.cosine.m)}, ${fmt(c.cosine.sqrt_m)}\n`,
    );
  }
  return 0;
}
