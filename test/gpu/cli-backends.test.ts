// `feature-lens nfa` and `feature-lens catapult --model relu` with --backend webgpu, in a child process:
// the NFA correlations against PyTorch's (committed fixtures), the catapult losses against the CPU run,
// and the backend recorded in the JSON.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../helpers/cli';

const DIR = join(import.meta.dirname, '../fixtures/weights');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const out = mkdtempSync(join(tmpdir(), 'gpu-cli-'));

describe('CLI --backend webgpu', () => {
  it("nfa: per-layer correlations equal torch's within 1e-4 and the JSON names the WebGPU device", () => {
    for (const [weights, act] of [
      ['mlp.pt', 'relu'],
      ['mlp.safetensors', 'tanh'],
      ['mlp_compressed.npz', 'gelu'],
    ] as const) {
      const json = join(out, `${weights}.json`);
      const r = cli([
        'nfa',
        join(DIR, weights),
        join(DIR, 'nfa_data.csv'),
        '--target',
        'y',
        '--activation',
        act,
        '--no-rfm',
        '--backend',
        'webgpu',
        '--json',
        json,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(readFileSync(json, 'utf8'));
      assert.equal(report.backend, 'webgpu');
      assert.match(report.device, /^webgpu /);
      report.layers.forEach((layer: { correlation: Record<string, Record<string, number>> }, l: number) => {
        const want = expected.nfa[act].layers[l].correlation;
        for (const k of ['cosine', 'pearson']) {
          for (const p of ['agop', 'sqrt_agop'])
            assert.ok(
              Math.abs(layer.correlation[k][p] - want[k][p]) < 1e-4,
              `${weights} layer ${l} ${k}.${p}: ${layer.correlation[k][p]} vs torch ${want[k][p]}`,
            );
        }
      });
    }
  });

  it('catapult --model relu: the WebGPU losses equal the CPU ones within 1e-4 and the JSON records the backend', () => {
    const args = ['catapult', '--model', 'relu', '--steps', '40', '--n', '64', '--width', '64', '--every', '20'];
    const paths = { cpu: join(out, 'cat-cpu.json'), webgpu: join(out, 'cat-gpu.json') };
    for (const [b, path] of Object.entries(paths)) {
      const r = cli([...args, '--backend', b, '--json', path]);
      assert.equal(r.status, 0, r.stderr);
    }
    const [c, g] = [JSON.parse(readFileSync(paths.cpu, 'utf8')), JSON.parse(readFileSync(paths.webgpu, 'utf8'))];
    assert.deepEqual([c.backend, g.backend], ['cpu', 'webgpu']);
    assert.equal(c.device, 'cpu float64');
    assert.equal(g.phase, c.phase);
    const err = Math.max(...g.losses.map((L: number, i: number) => Math.abs(L - c.losses[i]) / c.losses[i]));
    assert.ok(err < 1e-4, `losses differ by ${err}`);
  });

  it('rejects an unknown backend with a clear message', () => {
    const r = cli(['catapult', '--model', 'relu', '--backend', 'cuda']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--backend: expected auto, cpu or webgpu, got 'cuda'/);
  });
});
