// Weight readers against files written by PyTorch / numpy (test/fixtures/weights/make_weights.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors';
import {
  bytesSource,
  listTensors,
  numel,
  openWeights,
  readTensor,
  tensorStats,
  tensorStatsOf,
  writeSafetensors,
} from '../../src/core/weights';
import { fileByteSource } from '../../src/core/weights/node';

const DIR = join(__dirname, '../fixtures/weights');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  tensors: Record<string, { shape: number[]; values: number[] }>;
};
const load = (f: string) => bytesSource(new Uint8Array(readFileSync(join(DIR, f))));

function assertValues(actual: Float64Array, want: number[], label: string): void {
  assert.equal(actual.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) assert.equal(actual[i], want[i], `${label}[${i}]`);
}

test('safetensors from the reference format: every dtype decodes to the torch values', async () => {
  const f = await openWeights(load('dtypes.safetensors'), 'dtypes.safetensors');
  assert.equal(f.format, 'safetensors');
  const byName = new Map(f.tensors.map((t) => [t.name, t]));
  assert.deepEqual(byName.get('bf16'), { name: 'bf16', dtype: 'BF16', shape: [4, 6], byteLength: 48 });
  assert.deepEqual(byName.get('scalar')?.shape, []);
  assert.deepEqual(byName.get('empty')?.shape, [0, 3]);
  for (const name of ['f64', 'f32', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool', 'scalar', 'empty']) {
    assertValues(await f.read(name), expected.tensors[name].values, name);
  }
});

test('torch.save zip: dtypes, non-contiguous views, storage offsets, nested dicts', async () => {
  const f = await openWeights(load('dtypes.pt'), 'dtypes.pt');
  assert.equal(f.format, 'pytorch');
  const names = f.tensors.map((t) => t.name);
  assert.deepEqual(names, [
    'f64',
    'f32',
    'f16',
    'bf16',
    'i64',
    'i32',
    'i16',
    'i8',
    'u8',
    'bool',
    'scalar',
    'empty',
    'transposed',
    'sliced',
    'nested.inner',
  ]);
  assert.deepEqual(
    f.tensors.find((t) => t.name === 'transposed'),
    { name: 'transposed', dtype: 'F32', shape: [10, 6], byteLength: 240 },
  );
  for (const name of names) assertValues(await f.read(name), expected.tensors[name].values, name);
});

test('npz (stored and deflated) and npy, including Fortran order and big-endian', async () => {
  const f = await openWeights(load('dtypes.npz'), 'dtypes.npz');
  for (const name of ['f64', 'f32', 'f16', 'i64', 'u8', 'bool', 'fortran', 'bigendian']) {
    assertValues(await f.read(name), expected.tensors[name].values, name);
  }
  const single = await openWeights(load('single.npy'), 'single.npy');
  assert.deepEqual(single.tensors, [{ name: 'single', dtype: 'F64', shape: [6, 10], byteLength: 480 }]);
  assertValues(await single.read('single'), expected.tensors.fortran.values, 'single');
  const a = await openWeights(load('mlp.npz'), 'mlp.npz');
  const b = await openWeights(load('mlp_compressed.npz'), 'mlp_compressed.npz');
  assert.deepEqual(a.tensors, b.tensors);
  for (const t of a.tensors) assert.deepEqual(await a.read(t.name), await b.read(t.name));
});

test('one MLP in four formats lists and reads identically', async () => {
  const files = ['mlp.pt', 'mlp.safetensors', 'mlp.npz'];
  const opened = await Promise.all(files.map((f) => openWeights(load(f), f)));
  const ref = opened[0];
  assert.deepEqual(
    ref.tensors.map((t) => `${t.name}:${t.dtype}:${t.shape.join('x')}`),
    ['0.weight:F32:12x5', '0.bias:F32:12', '2.weight:F32:8x12', '2.bias:F32:8', '4.weight:F32:2x8', '4.bias:F32:2'],
  );
  for (const other of opened.slice(1)) {
    assert.deepEqual(other.tensors, ref.tensors);
    for (const t of ref.tensors) assert.deepEqual(await other.read(t.name), await ref.read(t.name));
  }
  assert.deepEqual((await listTensors(load('mlp.pt'), 'mlp.pt')).length, 6);
  assert.equal((await readTensor(load('mlp.pt'), 'mlp.pt', '4.bias')).length, 2);
});

test('file source reads only what it needs and agrees with the in-memory source', async () => {
  const src = await fileByteSource(join(DIR, 'dtypes.pt'));
  try {
    const f = await openWeights(src, 'dtypes.pt');
    assertValues(await f.read('sliced'), expected.tensors.sliced.values, 'sliced');
  } finally {
    await src.close();
  }
});

test('a huge file lists instantly: only the header is read', async () => {
  const header = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: 'F32', shape: [100000, 100000], data_offsets: [0, 4e10] } }),
  );
  const head = new Uint8Array(8 + header.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
  head.set(header, 8);
  let bytesRead = 0;
  const src = {
    size: head.length + 4e10,
    read: async (o: number, n: number) => {
      bytesRead += n;
      return head.subarray(o, Math.min(o + n, head.length));
    },
  };
  const list = await listTensors(src, 'huge.safetensors');
  assert.deepEqual(list, [{ name: 'w', dtype: 'F32', shape: [100000, 100000], byteLength: 4e10 }]);
  assert.equal(bytesRead, 8 + header.length);
});

test('safetensors writer round-trips through the reader', async () => {
  const w = Float64Array.from([1.5, -2, 3.25, 0.1]);
  const bytes = writeSafetensors(
    [
      { name: 'a.weight', shape: [2, 2], data: w },
      { name: 'a.bias', shape: [2], data: Float64Array.from([7, 8]) },
    ],
    'F64',
    { by: 'test' },
  );
  assert.equal((bytes.length - 8) % 8, 0);
  const f = await openWeights(bytesSource(bytes), 'x.safetensors');
  assert.deepEqual(
    f.tensors.map((t) => t.name),
    ['a.weight', 'a.bias'],
  );
  assert.deepEqual(await f.read('a.weight'), w);
  const f32 = await openWeights(bytesSource(writeSafetensors([{ name: 'w', shape: [4], data: w }])), 'y.safetensors');
  assert.deepEqual(await f32.read('w'), Float64Array.from(new Float32Array(w)));
});

test('tensorStats equals numpy min/max/mean/std on tensors read from the .pt', async () => {
  const f = await openWeights(load('dtypes.pt'), 'dtypes.pt');
  for (const name of ['f32', 'i64', 'transposed', 'bf16']) {
    const want = (expected.tensors[name] as unknown as { stats: Record<string, number> }).stats;
    const got = tensorStats(await f.read(name));
    for (const k of ['min', 'max', 'mean', 'std'] as const)
      assert.ok(
        Math.abs(got[k] - want[k]) <= 1e-12 * Math.max(1, Math.abs(want[k])),
        `${name} ${k}: ${got[k]} vs ${want[k]}`,
      );
  }
});

test('tensorStats: min, max, mean, population std, non-finite count', () => {
  const s = tensorStats([1, 2, 3, 4, NaN]);
  assert.deepEqual(s, { min: 1, max: 4, mean: 2.5, std: Math.sqrt(1.25), nonFinite: 1 });
});

async function refused(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(openWeights(load(file), file), (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(e.message.startsWith(file), `message names the file: ${e.message}`);
    return true;
  });
}

test('malformed safetensors are refused with a message naming the problem', async () => {
  await refused(
    'bad_huge_header.safetensors',
    /header length field says 1152921504606846976 bytes but only 65 bytes follow/,
  );
  await refused('bad_past_end.safetensors', /tensor 'w': data_offsets end 16 is past the end of the data \(8 bytes/);
  await refused('bad_overlap.safetensors', /tensors 'a' and 'b' overlap/);
  await refused(
    'bad_size.safetensors',
    /tensor 'a': data_offsets \[0, 16\] span 16 bytes but dtype F32 and shape \[3\] need 12/,
  );
  await refused('bad_json.safetensors', /header is not UTF-8 JSON/);
});

test('hostile pickles are refused without being run, naming the global', async () => {
  await refused('evil_system.pt', /refusing to load: the pickle references the global 'posix\.system'/);
  await refused('evil_eval.pt', /refusing to load: the pickle references the global 'builtins\.eval'/);
  await refused(
    'evil_reduce.pt',
    /refusing to load: the pickle calls 'torch\.FloatStorage', which is not a tensor rebuild function/,
  );
  await refused(
    'whole_model.pt',
    /global 'torch\.nn\.modules\.container\.Sequential'.*save model\.state_dict\(\) instead/,
  );
  await refused('evil_raw.pt', /legacy \(pre-1\.6\) torch\.save format|not a PyTorch checkpoint/);
});

test('torch.save with pickle protocol 4, and a training checkpoint with optimiser state', async () => {
  const ref = await openWeights(load('mlp.pt'), 'mlp.pt');
  const p4 = await openWeights(load('mlp_protocol4.pt'), 'mlp_protocol4.pt');
  assert.deepEqual(p4.tensors, ref.tensors);
  for (const t of ref.tensors) assert.deepEqual(await p4.read(t.name), await ref.read(t.name));
  const ckpt = await openWeights(load('checkpoint.pt'), 'checkpoint.pt');
  const names = ckpt.tensors.map((t) => t.name);
  assert.deepEqual(
    names.filter((n) => n.startsWith('model.')),
    ref.tensors.map((t) => `model.${t.name}`),
  );
  assert.ok(names.includes('optimizer.state.0.exp_avg'), names.join(', '));
  for (const t of ref.tensors) assert.deepEqual(await ckpt.read(`model.${t.name}`), await ref.read(t.name));
});

/** A torch-style zip around raw pickle bytes (stored, no compression), built here byte by byte. */
function torchZip(pickle: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode('x/data.pkl');
  const local = new Uint8Array(30 + name.length);
  const lv = new DataView(local.buffer);
  lv.setUint32(0, 0x04034b50, true);
  lv.setUint16(4, 20, true); // CRC left 0: our reader does not check it
  lv.setUint32(18, pickle.length, true);
  lv.setUint32(22, pickle.length, true);
  lv.setUint16(26, name.length, true);
  local.set(name, 30);
  const central = new Uint8Array(46 + name.length);
  const cv = new DataView(central.buffer);
  cv.setUint32(0, 0x02014b50, true);
  cv.setUint16(4, 20, true);
  cv.setUint16(6, 20, true);
  cv.setUint32(20, pickle.length, true);
  cv.setUint32(24, pickle.length, true);
  cv.setUint16(28, name.length, true);
  central.set(name, 46);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  const cdOffset = local.length + pickle.length;
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 1, true);
  ev.setUint16(10, 1, true);
  ev.setUint32(12, central.length, true);
  ev.setUint32(16, cdOffset, true);
  const out = new Uint8Array(cdOffset + central.length + eocd.length);
  out.set(local, 0);
  out.set(pickle, local.length);
  out.set(central, cdOffset);
  out.set(eocd, cdOffset + central.length);
  return out;
}

const pkl = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

test('crafted pickles: self-reference, deep nesting, truncation, object opcodes, missing memo', async () => {
  const cases: [Uint8Array, RegExp][] = [
    // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP: a list that contains itself
    [pkl([0x80, 2], ']q', [0], 'h', [0], 'a.'), /container that holds itself/],
    // 200 nested lists
    [pkl([0x80, 2], ...new Array(200).fill(']'), ...new Array(199).fill('a'), '.'), /nested more than 64 deep/],
    [pkl([0x80, 2], '}q', [0], 'X', [100, 0, 0, 0], 'ab'), /truncated/],
    [pkl([0x80, 2], 'ccollections\nOrderedDict\n)', [0x81], '.'), /NEWOBJ opcode/],
    [pkl([0x80, 2], '(ibuiltins\nobject\n.'), /INST opcode/],
    [pkl([0x80, 2], 'h', [5], '.'), /memo entry 5 that was never stored/],
    [pkl([0x80, 4], [0x8c, 8], 'builtins', [0x8c, 4], 'exec', [0x93], '.'), /global 'builtins\.exec'/],
    // BUILD (setting attributes) is only accepted on an OrderedDict (a state_dict's _metadata)
    [pkl([0x80, 2], '}}b.'), /BUILD sets state on an object that is not an OrderedDict/],
    // protocol 2 bytes are _codecs.encode(str, 'latin1'); any other use of it is refused
    [
      pkl([0x80, 2], 'c_codecs\nencode\n(X', [2, 0, 0, 0], 'abX', [5, 0, 0, 0], 'utf-8tR.'),
      /_codecs\.encode other than/,
    ],
    [pkl([0x80, 2], 'c__builtin__\nset\n(K', [1], 'tR.'), /__builtin__\.set built from something other than a list/],
  ];
  for (const [bytes, pattern] of cases) {
    await assert.rejects(openWeights(bytesSource(torchZip(bytes)), 'crafted.pt'), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
  // an empty dict is a valid (empty) state_dict
  assert.deepEqual((await openWeights(bytesSource(torchZip(pkl([0x80, 2], '}.'))), 'empty.pt')).tensors, []);
});

test('deflate bombs and oversize tensors are refused before allocating', async () => {
  const ok = new Uint8Array(readFileSync(join(DIR, 'mlp_compressed.npz')));
  // raise the first member's declared size in the central directory to 1.5 GiB
  const bytes = ok.slice();
  const dv = new DataView(bytes.buffer);
  let cd = -1;
  for (let i = bytes.length - 22; i >= 0; i--)
    if (dv.getUint32(i, true) === 0x06054b50) {
      cd = dv.getUint32(i + 16, true);
      break;
    }
  dv.setUint32(cd + 24, 1.5 * 2 ** 30, true);
  await assert.rejects(openWeights(bytesSource(bytes), 'bomb.npz'), /beyond what DEFLATE can produce/);
  const header = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: 'F64', shape: [2 ** 28], data_offsets: [0, 2 ** 31] } }),
  );
  const head = new Uint8Array(8 + header.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
  head.set(header, 8);
  const big = await openWeights(
    { size: head.length + 2 ** 31, read: async (o, n) => head.subarray(o, Math.min(o + n, head.length)) },
    'big.safetensors',
  );
  await assert.rejects(big.read('w'), /268435456 elements, more than this reader holds in memory/);
});

test('zip64 end records written by torch are followed when the classic fields are saturated', async () => {
  const bytes = new Uint8Array(readFileSync(join(DIR, 'mlp.pt')));
  const dv = new DataView(bytes.buffer);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= 0; i--)
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  dv.setUint16(eocd + 8, 0xffff, true);
  dv.setUint16(eocd + 10, 0xffff, true);
  dv.setUint32(eocd + 12, 0xffffffff, true);
  dv.setUint32(eocd + 16, 0xffffffff, true);
  const f = await openWeights(bytesSource(bytes), 'zip64.pt');
  const ref = await openWeights(load('mlp.pt'), 'mlp.pt');
  assert.deepEqual(f.tensors, ref.tensors);
  assert.deepEqual(await f.read('2.weight'), await ref.read('2.weight'));
});

/** Stored zip whose central directory uses zip64 extra fields for sizes and offsets (APPNOTE 4.5.3). */
function zip64Stored(members: { name: string; data: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 45, true);
    lv.setUint32(18, m.data.length, true);
    lv.setUint32(22, m.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length + 28);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 45, true);
    cv.setUint32(20, 0xffffffff, true);
    cv.setUint32(24, 0xffffffff, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, 28, true);
    cv.setUint32(42, 0xffffffff, true);
    central.set(name, 46);
    const e = 46 + name.length;
    cv.setUint16(e, 1, true);
    cv.setUint16(e + 2, 24, true);
    cv.setBigUint64(e + 4, BigInt(m.data.length), true);
    cv.setBigUint64(e + 12, BigInt(m.data.length), true);
    cv.setBigUint64(e + 20, BigInt(offset), true);
    parts.push(local, m.data);
    centrals.push(central);
    offset += local.length + m.data.length;
  }
  const cdSize = centrals.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...centrals, eocd];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const part of all) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

test('zip64 extra fields in the central directory (sizes and offsets beyond 32 bits)', async () => {
  const u = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const str = (s: string) => ['X'.charCodeAt(0), s.length, 0, 0, 0, ...u(s)];
  // {'w': _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', 2), 0, (2,), (1,), False, OrderedDict())}
  const pickle = Uint8Array.from([
    0x80,
    2,
    ...u('}('),
    ...str('w'),
    ...u('ctorch._utils\n_rebuild_tensor_v2\n(('),
    ...str('storage'),
    ...u('ctorch\nFloatStorage\n'),
    ...str('0'),
    ...str('cpu'),
    0x4b,
    2,
    ...u('tQ'),
    0x4b,
    0,
    0x4b,
    2,
    0x85,
    0x4b,
    1,
    0x85,
    0x89,
    ...u('ccollections\nOrderedDict\n)RtRu.'),
  ]);
  const storage = new Uint8Array(new Float32Array([1.5, -2.25]).buffer);
  const f = await openWeights(
    bytesSource(
      zip64Stored([
        { name: 'a/data.pkl', data: pickle },
        { name: 'a/data/0', data: storage },
      ]),
    ),
    'z.pt',
  );
  assert.deepEqual(f.tensors, [{ name: 'w', dtype: 'F32', shape: [2], byteLength: 8 }]);
  assert.deepEqual(await f.read('w'), Float64Array.from([1.5, -2.25]));
});

test('chunked reading gives read()’s values in every format; streaming stats go past the in-memory limit', async () => {
  for (const file of ['dtypes.safetensors', 'dtypes.pt', 'dtypes.npz', 'single.npy', 'mlp_compressed.npz']) {
    const f = await openWeights(load(file), file);
    for (const t of f.tensors) {
      const parts: number[] = [];
      for await (const c of f.chunks(t.name, 5)) {
        assert.ok(c.length <= 5 || c.length === numel(t.shape), `${file} ${t.name} chunk size`);
        parts.push(...c);
      }
      assert.deepEqual(Float64Array.from(parts), await f.read(t.name), `${file} ${t.name}`);
    }
  }
  // an F32 tensor just over the in-memory limit, served from a generator: never held whole
  const n = 2 ** 27 + 2;
  const header = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }),
  );
  const head = new Uint8Array(8 + header.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
  head.set(header, 8);
  const pattern = new Uint8Array(new Float32Array([1, 3]).buffer); // values alternate 1, 3
  const src = {
    size: head.length + 4 * n,
    read: async (o: number, len: number) => {
      if (o < head.length) return head.subarray(o, Math.min(o + len, head.length));
      // chunks start at multiples of 8 data bytes here, so the pattern is in phase; fill by doubling
      const out = new Uint8Array(len);
      out.set(pattern.subarray(0, Math.min(8, len)));
      for (let filled = 8; filled < len; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, len - filled));
      return out;
    },
  };
  const big = await openWeights(src, 'big.safetensors');
  await assert.rejects(big.read('w'), /more than this reader holds in memory/);
  const stats = await tensorStatsOf(big, 'w', 1 << 24);
  assert.deepEqual(stats, { min: 1, max: 3, mean: 2, std: 1, nonFinite: 0 });
});

test('float tensors decode from a misaligned Node Buffer (as workspace.fs.readFile returns)', async () => {
  const { decodeElements } = await import('../../src/core/weights/dtype');
  const values = [1.5, -2.25, 3.125];
  const raw = Buffer.alloc(1 + 4 * values.length);
  values.forEach((v, i) => raw.writeFloatLE(v, 1 + 4 * i));
  const misaligned = raw.subarray(1); // byteOffset 1 within its ArrayBuffer (Buffer pool offsets add more)
  assert.deepEqual(Array.from(decodeElements(misaligned, 'F32', values.length, true)), values);
});
