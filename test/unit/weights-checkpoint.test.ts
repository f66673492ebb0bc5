// Training checkpoints written by torch.save (test/fixtures/weights/make_checkpoints.py): tensors
// anywhere in the nesting, the other values listed as metadata with Python's own type names and reprs,
// the network read from the one dict holding the weights, and hostile objects nested inside refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/commands/nfa';
import { InputError } from '../../src/core/errors';
import { inferLayerChain, networkTensorName, networkView } from '../../src/core/nfa/network';
import { bytesSource, openWeights } from '../../src/core/weights';
import { pyFloatRepr } from '../../src/core/weights/pickle';
import type { NfaLayerJson } from '../helpers/cli';

const DIR = join(__dirname, '../fixtures/weights');
const f = (name: string) => join(DIR, name);
const open = (name: string) => openWeights(bytesSource(new Uint8Array(readFileSync(f(name)))), name);
interface Described {
  shape: number[];
  values: number[];
}
const expected = JSON.parse(readFileSync(f('checkpoints.json'), 'utf8')) as {
  train_checkpoint: {
    tensors: Record<string, Described>;
    values: Record<string, { type: string; repr: string }>;
    metadata_keys: string[];
  };
  state_dict_metadata: { tensors: Record<string, Described>; metadata_keys: string[] };
};
const nfaExpected = JSON.parse(readFileSync(f('expected.json'), 'utf8'));

async function sameTensors(file: Awaited<ReturnType<typeof open>>, want: Record<string, Described>): Promise<void> {
  assert.deepEqual(
    file.tensors.map((t) => t.name),
    Object.keys(want),
    'every tensor torch saved, in its order, named by key path',
  );
  for (const [name, w] of Object.entries(want)) {
    assert.deepEqual(file.tensors.find((t) => t.name === name)?.shape, w.shape, `${name} shape`);
    // float32 values widen to float64 exactly: equal, not close.
    assert.deepEqual(Array.from(await file.read(name)), w.values, `${name} values`);
  }
}

test('a training checkpoint (model, Adam state, epoch, loss, config) loads with the tensors torch wrote', async () => {
  const file = await open('train_checkpoint.pt');
  await sameTensors(file, expected.train_checkpoint.tensors);
  assert.ok(
    file.tensors.some((t) => t.name === 'optimizer_state_dict.state.0.exp_avg_sq'),
    'optimiser state tensors are listed',
  );
  assert.equal(file.modelScope, 'model_state_dict');
});

test('the non-tensor entries are listed with the type and repr Python gives them', async () => {
  const file = await open('train_checkpoint.pt');
  const byName = new Map(file.metadata.map((m) => [m.name, m]));
  for (const [name, want] of Object.entries(expected.train_checkpoint.values)) {
    const got = byName.get(name);
    assert.ok(got, `${name} is listed (have: ${[...byName.keys()].join(', ')})`);
    assert.equal(got.pyType, want.type, `${name} type`);
    assert.equal(got.value, want.repr, `${name} value`);
  }
  // The state_dict's _metadata (per-module versions) is an attribute of the OrderedDict, listed whole.
  const meta = byName.get('model_state_dict._metadata');
  assert.equal(meta?.pyType, 'OrderedDict');
  assert.ok(
    meta.value.startsWith(
      `OrderedDict({${expected.train_checkpoint.metadata_keys
        .slice(0, 2)
        .map((k) => `'${k}': {'version': 1}`)
        .join(', ')}`,
    ),
    meta.value,
  );
  assert.ok(
    file.metadata.every((m) => m.value.length <= 81),
    'values are short',
  );
});

test('a state_dict with _metadata loads like the bare one', async () => {
  const file = await open('state_dict_metadata.pt');
  await sameTensors(file, expected.state_dict_metadata.tensors);
  assert.equal(file.modelScope, undefined);
  assert.deepEqual(
    file.metadata.map((m) => [m.name, m.pyType]),
    [['_metadata', 'OrderedDict']],
  );
});

test('the network of a checkpoint is its model dict with plain names, as in the bare state_dict', async () => {
  const ckpt = await open('train_checkpoint.pt');
  const bare = await open('mlp.pt');
  const view = networkView(ckpt);
  assert.deepEqual(view.tensors, bare.tensors);
  for (const t of bare.tensors) assert.deepEqual(await view.read(t.name), await bare.read(t.name));
  const chain = inferLayerChain(view.tensors, 'train_checkpoint.pt', { fileOrder: view.savedOrder, inputDim: 5 });
  assert.deepEqual(
    chain.layers.map((l) => l.name),
    ['0.weight', '2.weight', '4.weight'],
  );
  assert.deepEqual(chain.ignored, [], 'optimiser state is outside the model dict');
  assert.equal(networkTensorName(ckpt, 'model_state_dict.2.weight'), '2.weight');
  assert.equal(networkTensorName(ckpt, '2.weight'), '2.weight');
  // Files without a wrapping dict are their own network.
  assert.equal(networkView(bare), bare);
});

test("nfa CLI on the checkpoint gives the bare state_dict's correlations (and PyTorch's)", async () => {
  const out = mkdtempSync(join(tmpdir(), 'nfa-ckpt-'));
  const report = async (weights: string, extra: string[] = []) => {
    const json = join(out, `${weights}.json`);
    assert.equal(
      // --force: the same weights are reported twice into one file (outputs are replaced only with --force).
      await run([
        f(weights),
        f('nfa_data.csv'),
        '--target',
        'y',
        '--json',
        json,
        '--force',
        '--backend',
        'cpu',
        ...extra,
      ]),
      0,
    );
    return JSON.parse(readFileSync(json, 'utf8'));
  };
  const ckpt = await report('train_checkpoint.pt');
  const bare = await report('mlp.pt');
  assert.deepEqual(
    ckpt.layers.map((l: NfaLayerJson) => l.name),
    ['0.weight', '2.weight', '4.weight'],
  );
  assert.deepEqual(
    ckpt.layers.map((l: NfaLayerJson) => l.correlation),
    bare.layers.map((l: NfaLayerJson) => l.correlation),
  );
  assert.deepEqual(ckpt.rfm.correlation, bare.rfm.correlation);
  ckpt.layers.forEach((l: NfaLayerJson, i: number) => {
    const want = nfaExpected.nfa.relu.layers[i].correlation;
    assert.ok(Math.abs(l.correlation.pearson.agop - want.pearson.agop) < 1e-10, `${l.name} pearson vs PyTorch`);
    assert.ok(
      Math.abs(l.correlation.cosine.sqrt_agop - want.cosine.sqrt_agop) < 1e-7,
      `${l.name} cosine sqrt vs PyTorch`,
    );
  });
  // Layers named as the file lists them or plainly, and initial weights subtracted, as PyTorch computed.
  const named = await report('train_checkpoint.pt', [
    '--layers',
    'model_state_dict.0.weight,2.weight,model_state_dict.4',
    '--init',
    f('mlp_init.safetensors'),
    '--no-rfm',
  ]);
  assert.deepEqual(
    named.layers.map((l: NfaLayerJson) => l.name),
    ['0.weight', '2.weight', '4.weight'],
  );
  assert.equal(named.minus_init, true);
  named.layers.forEach((l: NfaLayerJson, i: number) => {
    const want = nfaExpected.nfa.relu.layers[i].correlation_minus_init;
    assert.ok(Math.abs(l.correlation.pearson.agop - want.pearson.agop) < 1e-10, `${l.name} minus init vs PyTorch`);
  });
});

test('a hostile object nested inside a real checkpoint is still refused, naming the global', async () => {
  for (const [name, pattern] of [
    ['evil_nested_checkpoint.pt', /refusing to load: the pickle references the global 'posix\.system'/],
    [
      'namespace_checkpoint.pt',
      /refusing to load: the pickle references the global 'argparse\.Namespace'.*vars\(args\)/,
    ],
  ] as const) {
    await assert.rejects(
      open(name),
      (e: unknown) => e instanceof InputError && pattern.test(e.message) && e.message.startsWith(name),
    );
  }
});

test('Python float repr: shortest digits, exponent below 1e-4 and from 1e16', () => {
  // Pairs printed by CPython's repr().
  for (const [x, want] of [
    [0.12, '0.12'],
    [1e-3, '0.001'],
    [1e-4, '0.0001'],
    [1e-5, '1e-05'],
    [1e-8, '1e-08'],
    [3, '3.0'],
    [-2.5, '-2.5'],
    [1e15, '1000000000000000.0'],
    [1e16, '1e+16'],
    [123456789012345680, '1.2345678901234568e+17'],
    [1 / 3, '0.3333333333333333'],
    [-0, '-0.0'],
    [Infinity, 'inf'],
    [NaN, 'nan'],
  ] as const) {
    assert.equal(pyFloatRepr(x), want, String(x));
  }
});
