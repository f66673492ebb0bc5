// PyTorch .pt/.pth (the zip format torch.save has written since 1.6): `<dir>/data.pkl` is a pickle
// whose tensors point, by persistent id, at raw storages `<dir>/data/<key>`. The pickle goes through
// the restricted reader in pickle.ts; storages are read by range when a tensor is requested.
import { InputError } from '../errors';
import { DEFAULT_CHUNK_ELEMENTS, MAX_READ_ELEMENTS, contiguousChunks, decodeElements, itemSize } from './dtype';
import { PyDict, PySet, PyTuple, TensorRef, parseTorchPickle, pyRepr, pyTypeName, type PyValue } from './pickle';
import { numel, type ByteSource, type MetadataEntry, type TensorInfo, type WeightFile } from './types';
import { looksLikeZip, openZip, type ZipEntry } from './zip';

interface Located {
  readonly info: TensorInfo;
  readonly tensor: TensorRef;
  readonly entry: ZipEntry;
}

/** Containers nested deeper than this are not a checkpoint (and would exhaust the call stack). */
const MAX_NESTING = 64;
/** Non-tensor entries listed at most (a checkpoint holding a huge dict of floats stays listable). */
const MAX_METADATA = 2000;
/** A container without tensors whose repr is at most this long is one metadata entry, not one per item. */
const SHORT_REPR = 60;

interface Walked {
  tensors: [string, TensorRef][];
  metadata: MetadataEntry[];
  /** Every dict holding a 2-D tensor under a `*.weight` key, with its key path. */
  weightDicts: Map<PyDict, string>;
  omitted: number;
}

const WEIGHT_KEY = /(^|[._/])weight$/;

function keyName(k: PyValue): string {
  return typeof k === 'string' ? k : typeof k === 'number' || typeof k === 'bigint' ? String(k) : pyRepr(k, 40);
}

/**
 * Tensors of a checkpoint, wherever they sit, named by their dotted key path (e.g.
 * `model_state_dict.fc1.weight`), and the other values as metadata. The memo lets a pickle make a
 * container hold itself, hence the `active` set.
 */
function walkCheckpoint(root: PyValue, label: string): Walked {
  const out: Walked = { tensors: [], metadata: [], weightDicts: new Map(), omitted: 0 };
  const holdsTensor = new Map<object, boolean>();
  const active = new Set<object>();
  const children = (v: PyDict | PyValue[] | PyTuple | PySet): [string, PyValue][] =>
    v instanceof PyDict
      ? v.entries.map(([k, x]) => [keyName(k), x])
      : (Array.isArray(v) ? v : v.items).map((x, i) => [String(i), x]);
  const enter = (v: object, at: string): void => {
    if (active.has(v))
      throw new InputError(
        `${label}: the pickle contains a container that holds itself (at '${at}'); not a checkpoint`,
      );
    if (active.size >= MAX_NESTING)
      throw new InputError(`${label}: containers nested more than ${MAX_NESTING} deep (at '${at}'); not a checkpoint`);
    active.add(v);
  };
  const hasTensor = (v: PyValue, at: string): boolean => {
    if (v instanceof TensorRef) return true;
    if (!(v instanceof PyDict || Array.isArray(v) || v instanceof PyTuple || v instanceof PySet)) return false;
    const known = holdsTensor.get(v);
    if (known !== undefined) return known;
    enter(v, at);
    const found = children(v).some(([k, x]) => hasTensor(x, at ? `${at}.${k}` : k));
    active.delete(v);
    holdsTensor.set(v, found);
    return found;
  };
  const note = (name: string, v: PyValue): void => {
    if (out.metadata.length >= MAX_METADATA) {
      out.omitted++;
      return;
    }
    out.metadata.push({ name, pyType: pyTypeName(v), value: pyRepr(v) });
  };
  const walk = (v: PyValue, at: string): void => {
    if (v instanceof TensorRef) {
      out.tensors.push([at || 'tensor', v]);
      return;
    }
    if (!(v instanceof PyDict || Array.isArray(v) || v instanceof PyTuple || v instanceof PySet)) {
      note(at || 'value', v);
      return;
    }
    if (!hasTensor(v, at)) {
      // Tensor-free: one entry ([0, 1, 2] is one value) unless it is long and made of dicts (a config,
      // an optimiser's param_groups), which are listed key by key.
      const items = v instanceof PyDict ? v.entries.map((e) => e[1]) : Array.isArray(v) ? v : v.items;
      const dicts = v instanceof PyDict || items.some((x) => x instanceof PyDict);
      if (!dicts || !items.length || pyRepr(v, SHORT_REPR).length <= SHORT_REPR) {
        note(at || 'value', v);
        return;
      }
    }
    enter(v, at);
    for (const [k, x] of children(v as PyDict | PyValue[] | PyTuple | PySet)) {
      const path = at ? `${at}.${k}` : k;
      if (v instanceof PyDict && x instanceof TensorRef && x.shape.length === 2 && WEIGHT_KEY.test(k))
        out.weightDicts.set(v, at);
      walk(x, path);
    }
    if (v instanceof PyDict && v.attributes)
      for (const [k, x] of v.attributes.entries) note(at ? `${at}.${keyName(k)}` : keyName(k), x);
    active.delete(v);
  };
  walk(root, '');
  return out;
}

function isCContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    if (shape[k] !== 1 && stride[k] !== expected) return false;
    expected *= shape[k];
  }
  return true;
}

export async function openTorch(source: ByteSource, fileName: string): Promise<WeightFile> {
  const head = await source.read(0, Math.min(16, source.size));
  if (!looksLikeZip(head)) {
    if (head[0] === 0x80 && head[2] === 0x8a) {
      throw new InputError(
        `${fileName}: this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it with torch.save from PyTorch 1.6 or later (zip format)`,
      );
    }
    throw new InputError(`${fileName}: not a PyTorch checkpoint (expected a zip archive written by torch.save)`);
  }
  const zip = await openZip(source, fileName);
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length !== 1)
    throw new InputError(`${fileName}: expected exactly one '<name>/data.pkl' in the archive, found ${pkls.length}`);
  const dir = pkls[0].name.slice(0, -'/data.pkl'.length);
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  const orderEntry = byName.get(`${dir}/byteorder`);
  const littleEndian = orderEntry ? new TextDecoder().decode(await zip.read(orderEntry)).trim() !== 'big' : true;

  const root = parseTorchPickle(await zip.read(pkls[0]), `${fileName} (${pkls[0].name})`);
  const { tensors: found, metadata, weightDicts, omitted } = walkCheckpoint(root, fileName);
  if (omitted) metadata.push({ name: '…', pyType: '', value: `${omitted} more non-tensor entries not listed` });
  // A checkpoint wrapping one state_dict: the network is that dict (see WeightFile.modelScope).
  const modelScope = weightDicts.size === 1 ? [...weightDicts.values()][0] : '';
  const located = new Map<string, Located>();
  for (const [name, t] of found) {
    const label = `${fileName}: tensor '${name}'`;
    const entry = byName.get(`${dir}/data/${t.storage.key}`);
    if (!entry)
      throw new InputError(`${label} refers to storage '${t.storage.key}', which is missing from the archive`);
    const size = itemSize(t.storage.dtype);
    if (t.storage.numel * size > entry.size)
      throw new InputError(
        `${label}: storage '${t.storage.key}' should hold ${t.storage.numel * size} bytes but the archive member has ${entry.size}`,
      );
    const n = numel(t.shape);
    if (n > 0) {
      let last = t.offset;
      for (let k = 0; k < t.shape.length; k++) last += (t.shape[k] - 1) * t.stride[k];
      if (last >= t.storage.numel)
        throw new InputError(
          `${label}: shape [${t.shape.join(', ')}] with strides [${t.stride.join(', ')}] at offset ${t.offset} reaches element ${last}, past the end of its storage (${t.storage.numel} elements)`,
        );
    }
    if (located.has(name)) throw new InputError(`${fileName}: tensor name '${name}' appears twice`);
    located.set(name, {
      info: { name, dtype: t.storage.dtype, shape: t.shape, byteLength: n * size },
      tensor: t,
      entry,
    });
  }

  async function read(name: string): Promise<Float64Array> {
    const loc = located.get(name);
    if (!loc) throw new InputError(`${fileName}: no tensor named '${name}'`);
    const { tensor: t, entry, info } = loc;
    const size = itemSize(info.dtype);
    const n = numel(t.shape);
    if (n === 0) return new Float64Array(0);
    if (n > MAX_READ_ELEMENTS)
      throw new InputError(
        `${fileName}: tensor '${name}' has ${n} elements, more than this reader holds in memory (${MAX_READ_ELEMENTS})`,
      );
    let last = t.offset;
    for (let k = 0; k < t.shape.length; k++) last += (t.shape[k] - 1) * t.stride[k];
    const spanStart = t.offset * size;
    const spanLen = (last - t.offset + 1) * size;
    const span =
      entry.method === 0
        ? await source.read((await zip.dataOffset(entry)) + spanStart, spanLen)
        : (await zip.read(entry)).subarray(spanStart, spanStart + spanLen);
    if (isCContiguous(t.shape, t.stride)) return decodeElements(span, info.dtype, n, littleEndian);
    const all = decodeElements(span, info.dtype, last - t.offset + 1, littleEndian);
    const out = new Float64Array(n);
    const idx = new Array<number>(t.shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < idx.length; k++) s += idx[k] * t.stride[k];
      out[i] = all[s];
      for (let k = idx.length - 1; k >= 0; k--) {
        if (++idx[k] < t.shape[k]) break;
        idx[k] = 0;
      }
    }
    return out;
  }

  async function* chunks(name: string, per = DEFAULT_CHUNK_ELEMENTS): AsyncGenerator<Float64Array> {
    const loc = located.get(name);
    if (!loc) throw new InputError(`${fileName}: no tensor named '${name}'`);
    const { tensor: t, entry, info } = loc;
    if (entry.method !== 0 || !isCContiguous(t.shape, t.stride)) {
      yield await read(name);
      return;
    }
    const start = (await zip.dataOffset(entry)) + t.offset * itemSize(info.dtype);
    yield* contiguousChunks(
      (o, n) => source.read(o, n),
      start,
      numel(t.shape),
      info.dtype,
      littleEndian,
      per,
      `${fileName}: tensor '${name}'`,
    );
  }

  return {
    fileName,
    format: 'pytorch',
    savedOrder: true,
    tensors: [...located.values()].map((l) => l.info),
    metadata,
    ...(modelScope ? { modelScope } : {}),
    read,
    chunks,
  };
}
