// A convolutional network read from a state_dict (docs/science.md §6): 4-D `*.weight` tensors [k, c, kh, kw]
// are Conv2d layers, 2-D ones the dense head after a flatten. A state_dict records neither stride, padding
// nor pooling: PyTorch's defaults (stride 1, padding 0, no pooling) are assumed unless flags or an
// architecture JSON (ConvArchSchema) declare them. Forward convention, per conv layer l:
//   z_l = conv(a_l, W_l, b_l; stride, padding);  a_{l+1} = pool(act(z_l))
// then a_L is flattened (C, H, W row-major, as torch.flatten) and the dense layers follow with the
// activation between them; the last layer of the network has no activation (and no pooling applied after it
// unless declared). Every layer, dense ones included, is kept as a convolution: a dense layer is a
// convolution whose kernel covers its whole input ([out, C, H, W] on a C x H x W input, [out, n, 1, 1]
// after another dense layer), so one forward/backward serves both kinds.
import { z } from 'zod';
import { InputError } from '../errors';
import { CONV_CPU_MACS, MAX_CPU_CONV_NFA_MACS, MAX_PATCH_DIM } from '../limits';
import type { TensorInfo, WeightFile } from '../weights/types';
import type { Activation } from './activation';
import { inferLayerChain, naturalCompare, type LayerChain } from './network';

export type PoolKind = 'max' | 'avg';

/** MaxPool2d / AvgPool2d (padding 0, floor mode); stride defaults to the size as in PyTorch. */
export interface PoolSpec {
  readonly kind: PoolKind;
  readonly size: number;
  readonly stride: number;
}

/** [channels, height, width]. */
export type Shape3 = readonly [number, number, number];

export interface NetLayer {
  readonly kind: 'conv' | 'dense';
  /** Weight tensor name, e.g. `0.weight`. */
  readonly name: string;
  readonly biasName: string | null;
  /** Output channels (dense: output units). */
  readonly k: number;
  /** Input channels of the kernel (dense after a flatten: the flattened input's channels). */
  readonly c: number;
  readonly kh: number;
  readonly kw: number;
  readonly stride: number;
  readonly padding: number;
  /** Applied after the activation (null: none). */
  readonly pool: PoolSpec | null;
  /** Input of the layer: [c, h, w]. */
  readonly inShape: Shape3;
  /** Output of the convolution (before activation and pooling): [k, ho, wo]. */
  readonly outShape: Shape3;
  /** Output after activation and pooling: the next layer's input. */
  readonly nextShape: Shape3;
  /** The shape the tensor is stored with ([k, c, kh, kw] or [out, in]). */
  readonly storedShape: readonly number[];
  /** k x (c kh kw), row-major: the stored tensor flattened. */
  readonly W: Float64Array;
  readonly b: Float64Array | null;
}

export interface ConvNet {
  readonly kind: 'convnet';
  readonly input: Shape3;
  readonly layers: readonly NetLayer[];
  readonly activation: Activation;
}

export function isConvNet(net: object): net is ConvNet {
  return (net as { kind?: unknown }).kind === 'convnet';
}

/** Patch dimension c kh kw of a layer: WᵀW and the patch-AGOP are this square. */
export const patchDim = (l: Pick<NetLayer, 'c' | 'kh' | 'kw'>): number => l.c * l.kh * l.kw;
/** Positions the convolution is applied at (1 for a dense layer). */
export const positions = (l: Pick<NetLayer, 'outShape'>): number => l.outShape[1] * l.outShape[2];
export const size3 = (s: Shape3): number => s[0] * s[1] * s[2];
export const convOutputDim = (net: ConvNet): number => size3(net.layers[net.layers.length - 1].nextShape);

const POOL_TEXT = /^(max|avg):(\d+)(?::(\d+))?$/;

/** `max:2`, `avg:3`, `max:3:2` (size, stride) or `none`; `where` names the flag or field. */
export function parsePool(text: string, where: string): PoolSpec | null {
  if (text === 'none') return null;
  const m = POOL_TEXT.exec(text);
  if (!m || Number(m[2]) < 1 || (m[3] !== undefined && Number(m[3]) < 1))
    throw new InputError(
      `${where}: expected max:K, avg:K, max:K:S (size K, stride S, default K) or none, got '${text}'`,
    );
  const size = Number(m[2]);
  return { kind: m[1] as PoolKind, size, stride: m[3] !== undefined ? Number(m[3]) : size };
}

const positiveInt = z.number().int().min(1);
const PoolJson = z.union([
  z.literal('none'),
  z.null(),
  z.string(),
  z.object({ kind: z.enum(['max', 'avg']), size: positiveInt, stride: positiveInt.optional() }).strict(),
]);
const LayerJson = z
  .object({ stride: positiveInt.optional(), padding: z.number().int().min(0).optional(), pool: PoolJson.optional() })
  .strict();

/**
 * The architecture file (`--arch FILE`): what a state_dict does not record.
 * `{"input": [3, 32, 32], "stride": 1, "padding": 0, "pool": "none",
 *   "layers": {"conv1": {"padding": 1, "pool": "max:2"}, "features.3": {"stride": 2}}}`
 * Top-level stride/padding/pool apply to every conv layer; `layers` (keys: weight tensors or module
 * names) override them per layer; `order` lists the conv layers input to output when names do not.
 */
export const ConvArchSchema = z
  .object({
    input: z.tuple([positiveInt, positiveInt, positiveInt]).optional(),
    stride: positiveInt.optional(),
    padding: z.number().int().min(0).optional(),
    pool: PoolJson.optional(),
    order: z.array(z.string()).optional(),
    layers: z.record(z.string(), LayerJson).optional(),
  })
  .strict();
export type ConvArchJson = z.infer<typeof ConvArchSchema>;

/** Per conv layer settings, after flags and the architecture file are resolved. */
export interface ConvSettings {
  stride: number;
  padding: number;
  pool: PoolSpec | null;
}

export interface ConvArch {
  input?: Shape3;
  /** Defaults for every conv layer (flags, or the file's top level). */
  defaults: ConvSettings;
  /** Per weight tensor or module name. */
  perLayer: Record<string, Partial<ConvSettings>>;
  order?: string[];
}

/** Validates a parsed architecture JSON; errors name the file and the field. */
export function parseConvArch(json: unknown, fileName: string, base: ConvSettings = DEFAULT_CONV): ConvArch {
  const r = ConvArchSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new InputError(
      `${fileName}: field '${field}': ${issue.message} (expected {"input": [C, H, W], "stride": N, "padding": N, "pool": "max:K"|"avg:K"|"none", "order": [names], "layers": {"<name>": {"stride", "padding", "pool"}}})`,
    );
  }
  const a = r.data;
  const pool = (p: z.infer<typeof PoolJson> | undefined, where: string): PoolSpec | null | undefined => {
    if (p === undefined) return undefined;
    if (p === null) return null;
    if (typeof p === 'string') return parsePool(p, `${fileName}: field '${where}'`);
    return { kind: p.kind, size: p.size, stride: p.stride ?? p.size };
  };
  const topPool = pool(a.pool, 'pool');
  const defaults: ConvSettings = {
    stride: a.stride ?? base.stride,
    padding: a.padding ?? base.padding,
    pool: topPool === undefined ? base.pool : topPool,
  };
  const perLayer: Record<string, Partial<ConvSettings>> = {};
  for (const [name, l] of Object.entries(a.layers ?? {})) {
    const p = pool(l.pool, `layers.${name}.pool`);
    perLayer[name] = {
      ...(l.stride !== undefined ? { stride: l.stride } : {}),
      ...(l.padding !== undefined ? { padding: l.padding } : {}),
      ...(p !== undefined ? { pool: p } : {}),
    };
  }
  return { input: a.input, defaults, perLayer, order: a.order };
}

export const DEFAULT_CONV: ConvSettings = { stride: 1, padding: 0, pool: null };

const WEIGHT = /(^|[._/])weight$/;

/** True when the state_dict holds Conv2d weights (4-D `*.weight`). */
export function hasConvLayers(tensors: readonly TensorInfo[]): boolean {
  return tensors.some((t) => WEIGHT.test(t.name) && t.shape.length === 4);
}

export interface ConvChain {
  readonly input: Shape3;
  /** How the input shape was found. */
  readonly inputFrom: 'dataset' | 'arch' | 'square';
  readonly layers: readonly Omit<NetLayer, 'W' | 'b'>[];
  readonly orderedBy: 'user' | 'file' | 'names';
  readonly ignored: readonly string[];
}

export interface ConvChainOptions {
  /** Columns of the data: C H W. */
  inputDim: number;
  /** Rows of the data (the work budget). */
  rows?: number;
  /** Dataset.imageShape when the loader knows it. */
  imageShape?: Shape3;
  arch?: ConvArch;
  /** Names the data in messages. */
  inputLabel?: string;
  fileOrder?: boolean;
}

function pooled(s: Shape3, pool: PoolSpec | null, where: string): Shape3 {
  if (!pool) return s;
  const h = Math.floor((s[1] - pool.size) / pool.stride) + 1;
  const w = Math.floor((s[2] - pool.size) / pool.stride) + 1;
  if (h < 1 || w < 1)
    throw new InputError(
      `${where}: ${pool.kind} pooling of size ${pool.size} does not fit its ${s[1]}x${s[2]} input; declare a smaller pool`,
    );
  return [s[0], h, w];
}

function moduleOf(weightName: string): string {
  return weightName.replace(/[._/]?weight$/, '');
}

/**
 * Finds the conv layers (in saved order when their channels chain, else name order, or the arch's
 * `order`), the input image shape, each layer's output shape, and the dense head after the flatten.
 * Throws InputError naming the layer or the field that does not fit.
 */
export function inferConvChain(tensors: readonly TensorInfo[], fileName: string, o: ConvChainOptions): ConvChain {
  const arch = o.arch ?? { defaults: DEFAULT_CONV, perLayer: {} };
  const byName = new Map(tensors.map((t) => [t.name, t]));
  let convs = tensors.filter((t) => WEIGHT.test(t.name) && t.shape.length === 4);
  if (!convs.length) throw new InputError(`${fileName}: no Conv2d weights (4-D '*.weight' tensors)`);
  const chains = (list: readonly TensorInfo[]) => list.every((t, i) => i === 0 || t.shape[1] === list[i - 1].shape[0]);
  let orderedBy: ConvChain['orderedBy'];
  if (arch.order?.length) {
    convs = arch.order.map((n, i) => {
      const t = byName.get(n) ?? byName.get(`${n}.weight`);
      if (!t || t.shape.length !== 4)
        throw new InputError(
          `${fileName}: architecture field 'order.${i}': '${n}' is not a Conv2d weight (conv weights: ${tensors
            .filter((x) => x.shape.length === 4)
            .map((x) => x.name)
            .join(', ')})`,
        );
      return t;
    });
    orderedBy = 'user';
  } else if (o.fileOrder && chains(convs)) {
    orderedBy = 'file';
  } else {
    convs = [...convs].sort((a, b) => naturalCompare(a.name, b.name));
    orderedBy = 'names';
  }
  for (let i = 1; i < convs.length; i++)
    if (convs[i].shape[1] !== convs[i - 1].shape[0])
      throw new InputError(
        `${fileName}: conv layer '${convs[i].name}' [${convs[i].shape.join(', ')}] takes ${convs[i].shape[1]} channels but the previous conv layer '${convs[i - 1].name}' [${convs[i - 1].shape.join(', ')}] gives ${convs[i - 1].shape[0]}; list the conv layers in the architecture file's "order"`,
      );
  for (const n of Object.keys(arch.perLayer))
    if (!convs.some((t) => t.name === n || moduleOf(t.name) === n))
      throw new InputError(
        `${fileName}: architecture field 'layers.${n}' names no conv layer (conv layers: ${convs.map((t) => moduleOf(t.name)).join(', ')})`,
      );

  // Input image shape.
  const c0 = convs[0].shape[1];
  let input: Shape3;
  let inputFrom: ConvChain['inputFrom'];
  const dataLabel = o.inputLabel ? ` (${o.inputLabel})` : '';
  if (o.imageShape) {
    input = o.imageShape;
    inputFrom = 'dataset';
  } else if (arch.input) {
    input = arch.input;
    inputFrom = 'arch';
  } else {
    const side = Math.round(Math.sqrt(o.inputDim / c0));
    if (o.inputDim % c0 !== 0 || side * side * c0 !== o.inputDim)
      throw new InputError(
        `${fileName}: the data has ${o.inputDim} input columns${dataLabel}, which is not ${c0} channels (as '${convs[0].name}' takes) of a square image; declare the image shape ("input": [C, H, W] in the architecture file, --arch FILE)`,
      );
    input = [c0, side, side];
    inputFrom = 'square';
  }
  if (size3(input) !== o.inputDim)
    throw new InputError(
      `${fileName}: image shape ${input.join('x')} has ${size3(input)} values but the data has ${o.inputDim} input columns${dataLabel}`,
    );
  if (input[0] !== c0)
    throw new InputError(
      `${fileName}: first conv layer '${convs[0].name}' [${convs[0].shape.join(', ')}] takes ${c0} channels but the images have ${input[0]} (shape ${input.join('x')})`,
    );

  const layers: Omit<NetLayer, 'W' | 'b'>[] = [];
  const biasOf = (t: TensorInfo, k: number): string | null => {
    const bn = t.name.replace(/weight$/, 'bias');
    const b = byName.get(bn);
    return b && b.shape.length === 1 && b.shape[0] === k ? bn : null;
  };
  let shape = input;
  for (const t of convs) {
    const [k, c, kh, kw] = t.shape;
    const s = { ...arch.defaults, ...(arch.perLayer[t.name] ?? arch.perLayer[moduleOf(t.name)] ?? {}) };
    const ho = Math.floor((shape[1] + 2 * s.padding - kh) / s.stride) + 1;
    const wo = Math.floor((shape[2] + 2 * s.padding - kw) / s.stride) + 1;
    if (ho < 1 || wo < 1)
      throw new InputError(
        `${fileName}: conv layer '${t.name}' has a ${kh}x${kw} kernel but its input is ${shape[1]}x${shape[2]} (padding ${s.padding}); declare padding or less pooling before it`,
      );
    const outShape: Shape3 = [k, ho, wo];
    layers.push({
      kind: 'conv',
      name: t.name,
      biasName: biasOf(t, k),
      k,
      c,
      kh,
      kw,
      stride: s.stride,
      padding: s.padding,
      pool: s.pool,
      inShape: shape,
      outShape,
      nextShape: pooled(outShape, s.pool, `${fileName}: conv layer '${t.name}'`),
      storedShape: t.shape,
    });
    shape = layers[layers.length - 1].nextShape;
  }
  const convNames = new Set(convs.flatMap((t) => [t.name, biasOf(t, t.shape[0]) ?? '']));
  const rest = tensors.filter((t) => !convNames.has(t.name));
  let ignored = rest.map((t) => t.name);
  if (rest.some((t) => WEIGHT.test(t.name) && t.shape.length === 2)) {
    let dense: LayerChain;
    try {
      dense = inferLayerChain(rest, fileName, {
        inputDim: size3(shape),
        inputLabel: `the flattened output of conv layer '${convs[convs.length - 1].name}', ${shape.join('x')}`,
        fileOrder: o.fileOrder,
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(
        `${e.message.replace('the data has', 'the conv layers give')}; a state_dict does not record stride, padding or pooling (assumed here: ${describeSettings(arch)}): declare them with --stride, --padding, --pool or --arch FILE`,
      );
    }
    ignored = [...dense.ignored];
    dense.layers.forEach((d) => {
      layers.push({
        kind: 'dense',
        name: d.name,
        biasName: d.biasName,
        k: d.outDim,
        c: shape[0],
        kh: shape[1],
        kw: shape[2],
        stride: 1,
        padding: 0,
        pool: null,
        inShape: shape,
        outShape: [d.outDim, 1, 1],
        nextShape: [d.outDim, 1, 1],
        storedShape: [d.outDim, d.inDim],
      });
      shape = [d.outDim, 1, 1];
    });
  }
  return { input, inputFrom, layers, orderedBy, ignored };
}

/** Reads the chain's weights as float64. */
export async function loadConvNet(file: WeightFile, chain: ConvChain, activation: Activation): Promise<ConvNet> {
  const layers: NetLayer[] = [];
  for (const l of chain.layers) {
    const W = await file.read(l.name);
    const b = l.biasName ? await file.read(l.biasName) : null;
    layers.push({ ...l, W, b });
  }
  return { kind: 'convnet', input: chain.input, layers, activation };
}

/** The same layers from another checkpoint (initial weights): names and stored shapes must match. */
export async function loadMatchingConvWeights(file: WeightFile, chain: ConvChain): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const l of chain.layers) {
    const t = file.tensors.find((x) => x.name === l.name);
    if (!t) throw new InputError(`${file.fileName}: no tensor '${l.name}' to match layer '${l.name}'`);
    if (t.shape.join(',') !== l.storedShape.join(','))
      throw new InputError(
        `${file.fileName}: tensor '${l.name}' has shape [${t.shape.join(', ')}], expected [${l.storedShape.join(', ')}] as in the trained weights`,
      );
    out.push(await file.read(l.name));
  }
  return out;
}

function describeSettings(a: ConvArch): string {
  const d = a.defaults;
  const more = Object.keys(a.perLayer).length ? ', with per-layer settings' : '';
  return `stride ${d.stride}, padding ${d.padding}, ${d.pool ? `${d.pool.kind}:${d.pool.size} pooling` : 'no pooling'}${more}`;
}

/** One line per layer for logs: `conv 0.weight [8,3,3,3] s1 p1 max:2 -> 8x16x16`. */
export function describeConvChain(chain: ConvChain): string {
  return chain.layers
    .map((l) =>
      l.kind === 'conv'
        ? `${l.name} [${l.storedShape.join('x')}] stride ${l.stride} padding ${l.padding}${l.pool ? ` ${l.pool.kind}:${l.pool.size}` : ''} -> ${l.nextShape.join('x')}`
        : `${l.name} [${l.storedShape.join('x')}]`,
    )
    .join(' -> ');
}

/** Multiply-adds of the patch-AGOPs: per row, the forward pass and, per output, the backward pass and the Grams. */
export function convNfaMacs(layers: readonly Omit<NetLayer, 'W' | 'b'>[], rows: number): number {
  let forward = 0,
    backward = 0;
  for (const l of layers) {
    const conv = l.k * positions(l) * patchDim(l);
    forward += conv;
    backward += conv + (l.k * l.k * positions(l)) / 2;
  }
  const outputs = size3(layers[layers.length - 1].nextShape);
  return rows * (forward + outputs * backward);
}

/**
 * Refuses, before anything is allocated, a layer whose (c kh kw)^2 matrices are over MAX_PATCH_DIM^2, and
 * on the CPU (`backend` 'cpu') an estimated run over MAX_CPU_CONV_NFA_MACS.
 */
export function checkConvNfaBudget(chain: Pick<ConvChain, 'layers'>, rows: number, backend: string): void {
  for (const l of chain.layers)
    if (patchDim(l) > MAX_PATCH_DIM)
      throw new InputError(
        `layer '${l.name}': its ${l.kind === 'conv' ? 'patches have' : 'input has'} ${patchDim(l)} entries, over the limit of ${MAX_PATCH_DIM} (its W^T W and patch-AGOP are that square); ${l.kind === 'conv' ? 'choose a narrower layer' : 'declare pooling before the flatten (--pool, --arch)'}`,
      );
  const macs = convNfaMacs(chain.layers, rows);
  if (backend === 'cpu' && macs > MAX_CPU_CONV_NFA_MACS)
    throw new InputError(
      `the conv network's patch-AGOPs on ${rows} rows need ~${macs.toExponential(1)} multiply-adds, ~${Math.round(macs / CONV_CPU_MACS)} s on the CPU (limit ${MAX_CPU_CONV_NFA_MACS.toExponential(1)}); use --backend webgpu or auto, or fewer rows`,
    );
}

/** What reading a conv network needs besides the weights: the data's columns, the declarations, the init file. */
export interface ReadConvOptions extends ConvChainOptions {
  activation: Activation;
  /** 'cpu' checks the CPU work budget too. */
  backend: string;
  /** Initial weights (networkView of the file): the NFMs are then of W - W0. */
  init?: WeightFile;
}

/** The conv network of `weights` (a networkView) that takes the data's images, budget-checked, loaded, with --init's weights. */
export async function readConvNetwork(
  weights: WeightFile,
  fileName: string,
  o: ReadConvOptions,
): Promise<{ net: ConvNet; chain: ConvChain; initWeights?: Float64Array[] }> {
  const chain = inferConvChain(weights.tensors, fileName, o);
  checkConvNfaBudget(chain, o.rows ?? 0, o.backend);
  const net = await loadConvNet(weights, chain, o.activation);
  return { net, chain, ...(o.init ? { initWeights: await loadMatchingConvWeights(o.init, chain) } : {}) };
}

/** One line for logs: the image shape, where it came from, and the layers. */
export function describeConvNetwork(chain: ConvChain): string {
  const from =
    chain.inputFrom === 'square'
      ? `square, ${chain.input[0]} channels as the first conv layer takes`
      : `from the ${chain.inputFrom === 'arch' ? 'architecture file' : 'dataset'}`;
  return `conv network on ${chain.input.join('x')} images (${from}), layers (${chain.orderedBy} order): ${describeConvChain(chain)}`;
}
