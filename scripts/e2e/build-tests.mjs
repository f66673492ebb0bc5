// Bundles the extension-host test suite (test/e2e) into out/e2e for VS Code to load.
import * as esbuild from 'esbuild';
import { cpSync, readdirSync } from 'node:fs';

const suite = readdirSync('test/e2e/suite')
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/e2e/suite/${f}`);
await esbuild.build({
  entryPoints: ['test/e2e/index.ts', ...suite],
  outdir: 'out/e2e',
  outbase: 'test/e2e',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  loader: { '.wgsl': 'text' },
  external: ['vscode', 'mocha', 'webgpu'],
  logLevel: 'warning',
});
// The hostile corpus (test/fuzz/corpus.ts) builds some files from fixtures next to its bundle.
cpSync('test/fixtures/iris.parquet', 'out/e2e/fixtures/iris.parquet');
