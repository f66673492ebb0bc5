// Builds the three bundles: extension host (cjs, node), webview (browser) and CLI (node, executable).
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
};

const all = [
  // `webgpu` carries dawn.node native binaries: never bundled, resolved from node_modules at run time.
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'webgpu'],
  },
  // The extension host's dataset parser, on a worker thread (src/extension/host/datasets.ts).
  {
    ...common,
    entryPoints: ['src/extension/host/datasetWorker.ts'],
    outfile: 'dist/dataset-worker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    entryPoints: ['webview/rfm/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  // The weights editor, the NFA view and the training lab: one bundle each, loaded by their own pages.
  {
    ...common,
    entryPoints: ['webview/weights/main.ts'],
    outfile: 'dist/weights.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/nfa/main.ts'],
    outfile: 'dist/nfa.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/convrfm/main.ts'],
    outfile: 'dist/convrfm.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/nfa/lab.ts'],
    outfile: 'dist/lab.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  // The collapse view (Deep RFM, collapse over checkpoints).
  {
    ...common,
    entryPoints: ['webview/nfa/collapse.ts'],
    outfile: 'dist/collapse.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  // The loss-spike view and the catapult lab: their own pages, so the RFM panel's bundle stays as it is.
  {
    ...common,
    entryPoints: ['webview/logs/main.ts'],
    outfile: 'dist/logs.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/catapult/main.ts'],
    outfile: 'dist/catapult.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/grokking/main.ts'],
    outfile: 'dist/grokking.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/linrfm/main.ts'],
    outfile: 'dist/linrfm.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    // `feature-lens --version`.
    define: { __FEATURE_LENS_VERSION__: JSON.stringify(pkg.version) },
    target: 'node20',
    external: ['webgpu'],
    banner: { js: '#!/usr/bin/env node' },
  },
  // The CPU backend's worker thread (src/core/rfm/node.ts loads it next to the cli / extension bundle).
  {
    ...common,
    entryPoints: ['src/core/rfm/cpuWorker.ts'],
    outfile: 'dist/rfmWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
];
// `node esbuild.mjs cli` builds only the named bundles (extension, webview, cli).
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const builds = only.length
  ? all.filter(
      (b) =>
        only.some((o) => b.outfile.endsWith(`/${o}.js`)) ||
        (b.outfile === 'dist/rfmWorker.js' && only.some((o) => o === 'cli' || o === 'extension')),
    )
  : all;

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
