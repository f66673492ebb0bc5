// Bundles the extension-host test suite (test/e2e) into out/e2e for VS Code to load.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';

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
