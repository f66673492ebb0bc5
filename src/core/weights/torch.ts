// PyTorch .pt/.pth (the zip format torch.save has written since 1.6): `<dir>/data.pkl` is a pickle
// whose tensors point, by persistent id, at raw storages `<dir>/data/<key>`. The pickle goes through
// the restricted reader in pickle.ts; storages are read by range when a tensor is requested.
import { InputError } from '../errors';
import { DEFAULT_CHUNK_ELEMENTS, MAX_READ_ELEMENTS, contiguousChunks, decodeElements, itemSize } from './dtype';
import { PyDict, PyTuple, TensorRef, parseTorchPickle, type PyValue } from './pickle';
import { numel, type ByteSource, type TensorInfo, type WeightFile } from './types';
import { looksLikeZip, openZip, type ZipEntry } from './zip';

interface Located {
  readonly info: TensorInfo;
  readonly tensor: TensorRef;
  readonly entry: ZipEntry;
}

/** Containers nested deeper than this are not a checkpoint (and would exhaust the call stack). */
const MAX_NESTING = 64;

/**
 * Tensors of a nested state_dict/checkpoint, named by their dotted key path (e.g. `model.fc1.weight`).
 * The memo lets a pickle make a container hold itself, hence the `active` set.
 */
function collectTensors(v: PyValue, prefix: string, out: [string, TensorRef][], label: string, active = new Set<object>()): void {
  if (v instanceof TensorRef) { out.push([prefix || 'tensor', v]); return; }
  const join = (k: string): string => (prefix ? `${prefix}.${k}` : k);
  if (!(v instanceof PyDict || Array.isArray(v) || v instanceof PyTuple)) return;
  if (active.has(v)) throw new InputError(`${label}: the pickle contains a container that holds itself (at '${prefix}'); not a state_dict`);
  if (active.size >= MAX_NESTING) throw new InputError(`${label}: containers nested more than ${MAX_NESTING} deep (at '${prefix}'); not a state_dict`);
  active.add(v);
  if (v instanceof PyDict) {
    for (const [k, x] of v.entries) if (typeof k === 'string' || typeof k === 'number') collectTensors(x, join(String(k)), out, label, active);
  } else {
    const items = Array.isArray(v) ? v : v.items;
    items.forEach((x, i) => collectTensors(x, join(String(i)), out, label, active));
  }
  active.delete(v);
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
      throw new InputError(`${fileName}: this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it with torch.save from PyTorch 1.6 or later (zip format)`);
    }
    throw new InputError(`${fileName}: not a PyTorch checkpoint (expected a zip archive written by torch.save)`);
  }
  const zip = await openZip(source, fileName);
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length !== 1) throw new InputError(`${fileName}: expected exactly one '<name>/data.pkl' in the archive, found ${pkls.length}`);
  const dir = pkls[0].name.slice(0, -'/data.pkl'.length);
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  const orderEntry = byName.get(`${dir}/byteorder`);
  const littleEndian = orderEntry ? new TextDecoder().decode(await zip.read(orderEntry)).trim() !== 'big' : true;

  const root = parseTorchPickle(await zip.read(pkls[0]), `${fileName} (${pkls[0].name})`);
  const found: [string, TensorRef][] = [];
  collectTensors(root, '', found, fileName);
  const located = new Map<string, Located>();
  for (const [name, t] of found) {
    const label = `${fileName}: tensor '${name}'`;
    const entry = byName.get(`${dir}/data/${t.storage.key}`);
    if (!entry) throw new InputError(`${label} refers to storage '${t.storage.key}', which is missing from the archive`);
    const size = itemSize(t.storage.dtype);
    if (t.storage.numel * size > entry.size) throw new InputError(`${label}: storage '${t.storage.key}' should hold ${t.storage.numel * size} bytes but the archive member has ${entry.size}`);
    const n = numel(t.shape);
    if (n > 0) {
      let last = t.offset;
      for (let k = 0; k < t.shape.length; k++) last += (t.shape[k] - 1) * t.stride[k];
      if (last >= t.storage.numel) throw new InputError(`${label}: shape [${t.shape.join(', ')}] with strides [${t.stride.join(', ')}] at offset ${t.offset} reaches element ${last}, past the end of its storage (${t.storage.numel} elements)`);
    }
    if (located.has(name)) throw new InputError(`${fileName}: tensor name '${name}' appears twice`);
    located.set(name, { info: { name, dtype: t.storage.dtype, shape: t.shape, byteLength: n * size }, tensor: t, entry });
  }

  async function read(name: string): Promise<Float64Array> {
    const loc = located.get(name);
    if (!loc) throw new InputError(`${fileName}: no tensor named '${name}'`);
    const { tensor: t, entry, info } = loc;
    const size = itemSize(info.dtype);
    const n = numel(t.shape);
    if (n === 0) return new Float64Array(0);
    if (n > MAX_READ_ELEMENTS) throw new InputError(`${fileName}: tensor '${name}' has ${n} elements, more than this reader holds in memory (${MAX_READ_ELEMENTS})`);
    let last = t.offset;
    for (let k = 0; k < t.shape.length; k++) last += (t.shape[k] - 1) * t.stride[k];
    const spanStart = t.offset * size;
    const spanLen = (last - t.offset + 1) * size;
    const span = entry.method === 0
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
      for (let k = idx.length - 1; k >= 0; k--) { if (++idx[k] < t.shape[k]) break; idx[k] = 0; }
    }
    return out;
  }

  async function* chunks(name: string, per = DEFAULT_CHUNK_ELEMENTS): AsyncGenerator<Float64Array> {
    const loc = located.get(name);
    if (!loc) throw new InputError(`${fileName}: no tensor named '${name}'`);
    const { tensor: t, entry, info } = loc;
    if (entry.method !== 0 || !isCContiguous(t.shape, t.stride)) { yield await read(name); return; }
    const start = (await zip.dataOffset(entry)) + t.offset * itemSize(info.dtype);
    yield* contiguousChunks((o, n) => source.read(o, n), start, numel(t.shape), info.dtype, littleEndian, per, `${fileName}: tensor '${name}'`);
  }

  return { fileName, format: 'pytorch', savedOrder: true, tensors: [...located.values()].map((l) => l.info), read, chunks };
}
