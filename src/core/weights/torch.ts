// PyTorch .pt/.pth (the zip format torch.save has written since 1.6): `<dir>/data.pkl` is a pickle
// whose tensors point, by persistent id, at raw storages `<dir>/data/<key>`. The pickle goes through
// the restricted reader in pickle.ts; storages are read by range when a tensor is requested.
import { InputError } from '../errors';
import { DEFAULT_CHUNK_ELEMENTS, MAX_READ_ELEMENTS, contiguousChunks, decodeElements, itemSize } from './dtype';
import { PICKLE_LIMITS, Pacer, type ReadOptions } from './budget';
import { PyDict, PySet, PyTuple, TensorRef, parseTorchPickleAsync, pyRepr, pyTypeName, type PyValue } from './pickle';
import { numel, type ByteSource, type MetadataEntry, type TensorInfo, type WeightFile } from './types';
import { looksLikeZip, openZip, type ZipEntry } from './zip';

interface Located {
  readonly info: TensorInfo;
  readonly tensor: TensorRef;
  readonly entry: ZipEntry;
}

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

type Container = PyDict | PyValue[] | PyTuple | PySet;

function isContainer(v: PyValue): v is Container {
  return v instanceof PyDict || Array.isArray(v) || v instanceof PyTuple || v instanceof PySet;
}

function countOf(v: Container): number {
  return v instanceof PyDict ? v.entries.length : Array.isArray(v) ? v.length : v.items.length;
}

function itemAt(v: Container, i: number): PyValue {
  return v instanceof PyDict ? v.entries[i][1] : Array.isArray(v) ? v[i] : v.items[i];
}

function keyAt(v: Container, i: number): string {
  return v instanceof PyDict ? keyName(v.entries[i][0]) : String(i);
}

/**
 * Which containers reachable from `root` hold a tensor, each container examined once (the pickle memo
 * lets a file share one dict under many keys: 45 levels of `{'l': d, 'r': d}` are 2^45 paths but 45
 * dicts). Iterative, so depth costs no call stack; a container holding itself or nested deeper than
 * PICKLE_LIMITS.maxNesting is refused.
 */
async function tensorHolders(root: PyValue, label: string, pacer: Pacer): Promise<Map<object, boolean>> {
  const holds = new Map<object, boolean>();
  if (!isContainer(root)) return holds;
  const onPath = new Set<object>();
  const path: { v: Container; n: number; i: number; found: boolean; at: string }[] = [];
  let visits = 0;
  const enter = (v: Container, at: string): void => {
    if (onPath.has(v))
      throw new InputError(
        `${label}: the pickle contains a container that holds itself (at '${at}'); not a checkpoint`,
      );
    if (path.length >= PICKLE_LIMITS.maxNesting)
      throw new InputError(
        `${label}: containers nested more than ${PICKLE_LIMITS.maxNesting} deep (at '${at}'); not a checkpoint`,
      );
    onPath.add(v);
    path.push({ v, n: countOf(v), i: 0, found: false, at });
  };
  enter(root, '');
  while (path.length) {
    if (pacer.due()) await pacer.pause();
    if (++visits > PICKLE_LIMITS.maxVisits)
      throw new InputError(
        `${label}: the checkpoint has more than ${PICKLE_LIMITS.maxVisits} containers and references (the walk's budget); not a PyTorch state_dict`,
      );
    const top = path[path.length - 1];
    if (top.i >= top.n) {
      path.pop();
      onPath.delete(top.v);
      holds.set(top.v, top.found);
      if (path.length && top.found) path[path.length - 1].found = true;
      continue;
    }
    const k = top.i++;
    const x = itemAt(top.v, k);
    if (x instanceof TensorRef) top.found = true;
    else if (isContainer(x)) {
      const known = holds.get(x);
      if (known !== undefined) top.found ||= known;
      else {
        const key = keyAt(top.v, k);
        enter(x, top.at ? `${top.at}.${key}` : key);
      }
    }
  }
  return holds;
}

/**
 * Tensors of a checkpoint, wherever they sit, named by their dotted key path (e.g.
 * `model_state_dict.fc1.weight`), and the other values as metadata. A container is expanded once:
 * a second reference to it is listed as metadata ("same object as '<first path>'"), so shared
 * structure costs its size, not the number of paths to it.
 */
async function walkCheckpoint(root: PyValue, label: string, pacer: Pacer): Promise<Walked> {
  const out: Walked = { tensors: [], metadata: [], weightDicts: new Map(), omitted: 0 };
  const holds = await tensorHolders(root, label, pacer);
  const expanded = new Map<object, string>();
  const note = (name: string, v: PyValue, value = pyRepr(v)): void => {
    if (out.metadata.length >= MAX_METADATA) {
      out.omitted++;
      return;
    }
    out.metadata.push({ name, pyType: pyTypeName(v), value });
  };
  // Explicit stack in place of recursion: a value to visit, a container whose items are being
  // visited (one at a time, so a dict of 400k entries costs no 400k-job burst), or a dict's
  // attributes to note after its items.
  type Job =
    | { kind: 'value'; v: PyValue; at: string }
    | { kind: 'items'; c: Container; at: string; i: number; n: number }
    | { kind: 'attributes'; d: PyDict; at: string };
  const jobs: Job[] = [{ kind: 'value', v: root, at: '' }];
  let visits = 0;
  while (jobs.length) {
    if (pacer.due()) await pacer.pause();
    if (++visits > PICKLE_LIMITS.maxVisits)
      throw new InputError(
        `${label}: the checkpoint has more than ${PICKLE_LIMITS.maxVisits} containers and references (the walk's budget); not a PyTorch state_dict`,
      );
    const job = jobs[jobs.length - 1];
    const at = job.at;
    if (job.kind === 'items') {
      if (job.i >= job.n) {
        jobs.pop();
        continue;
      }
      const i = job.i++;
      const k = keyAt(job.c, i);
      const x = itemAt(job.c, i);
      if (job.c instanceof PyDict && x instanceof TensorRef && x.shape.length === 2 && WEIGHT_KEY.test(k))
        out.weightDicts.set(job.c, at);
      jobs.push({ kind: 'value', v: x, at: at ? `${at}.${k}` : k });
      continue;
    }
    jobs.pop();
    if (job.kind === 'attributes') {
      for (const [k, x] of job.d.attributes!.entries) note(at ? `${at}.${keyName(k)}` : keyName(k), x);
      continue;
    }
    const v = job.v;
    if (v instanceof TensorRef) {
      if (out.tensors.length >= PICKLE_LIMITS.maxTensors)
        throw new InputError(
          `${label}: more than ${PICKLE_LIMITS.maxTensors} tensors (the limit for one checkpoint); not a PyTorch state_dict`,
        );
      out.tensors.push([at || 'tensor', v]);
      continue;
    }
    if (!isContainer(v)) {
      note(at || 'value', v);
      continue;
    }
    if (!holds.get(v) && out.metadata.length >= MAX_METADATA) {
      // Nothing more will be listed: count the items instead of walking them.
      out.omitted += Math.max(1, countOf(v));
      continue;
    }
    if (!holds.get(v)) {
      // Tensor-free: one entry ([0, 1, 2] is one value) unless it is long and made of dicts (a config,
      // an optimiser's param_groups), which are listed key by key.
      let dicts = v instanceof PyDict;
      const n = countOf(v);
      for (let i = 0; i < n && !dicts; i++) dicts = itemAt(v, i) instanceof PyDict;
      if (!dicts || !n || pyRepr(v, SHORT_REPR).length <= SHORT_REPR) {
        note(at || 'value', v);
        continue;
      }
    }
    const first = expanded.get(v);
    if (first !== undefined) {
      note(at || 'value', v, `same object as '${first || '<root>'}'`);
      continue;
    }
    expanded.set(v, at);
    if (v instanceof PyDict && v.attributes) jobs.push({ kind: 'attributes', d: v, at });
    jobs.push({ kind: 'items', c: v, at, i: 0, n: countOf(v) });
  }
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

export async function openTorch(source: ByteSource, fileName: string, options?: ReadOptions): Promise<WeightFile> {
  const head = await source.read(0, Math.min(16, source.size));
  if (!looksLikeZip(head)) {
    if (head[0] === 0x80 && head[2] === 0x8a) {
      throw new InputError(
        `${fileName}: this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it with torch.save from PyTorch 1.6 or later (zip format)`,
      );
    }
    throw new InputError(`${fileName}: not a PyTorch checkpoint (expected a zip archive written by torch.save)`);
  }
  const zip = await openZip(source, fileName, options);
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length !== 1)
    throw new InputError(`${fileName}: expected exactly one '<name>/data.pkl' in the archive, found ${pkls.length}`);
  const dir = pkls[0].name.slice(0, -'/data.pkl'.length);
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  const orderEntry = byName.get(`${dir}/byteorder`);
  const littleEndian = orderEntry ? new TextDecoder().decode(await zip.read(orderEntry)).trim() !== 'big' : true;

  if (pkls[0].size > PICKLE_LIMITS.maxBytes)
    throw new InputError(
      `${fileName}: ${pkls[0].name} declares ${pkls[0].size} bytes, more than the ${PICKLE_LIMITS.maxBytes}-byte limit for a checkpoint's structure (tensor data is stored apart); save a state_dict or use safetensors`,
    );
  const pacer = new Pacer(options);
  const root = await parseTorchPickleAsync(await zip.read(pkls[0]), `${fileName} (${pkls[0].name})`, options);
  const { tensors: found, metadata, weightDicts, omitted } = await walkCheckpoint(root, fileName, pacer);
  if (omitted) metadata.push({ name: '…', pyType: '', value: `${omitted} more non-tensor entries not listed` });
  // A checkpoint wrapping one state_dict: the network is that dict (see WeightFile.modelScope).
  const modelScope = weightDicts.size === 1 ? [...weightDicts.values()][0] : '';
  const located = new Map<string, Located>();
  for (const [name, t] of found) {
    await pacer.tick();
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
        : (await zip.read(entry, spanStart + spanLen)).subarray(spanStart, spanStart + spanLen);
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
