// Lint = typescript-eslint's recommended rules plus the architecture as rules: which layer may import
// which (import-x/no-restricted-paths, resolved paths, so '../../core/x' and 'src/core/x' are the same),
// no sideways imports between feature folders, no import cycles, and no runtime the layer does not run in
// (vscode, Node, the DOM). README "Layers and lint" has the table.
import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Folders inside each layer that every feature may use; every other folder there is a feature. */
const SHARED = {
  'src/core': ['gpu', 'data', 'weights', 'logs', 'linalg', 'collapse'],
  'src/extension': ['host'],
  webview: ['shared'],
};

/** The file on top of a layer that may import every feature; the layer's other top-level files are shared. */
const TOP = { 'src/core': 'node.ts', 'src/extension': 'extension.ts' };

const featureFolders = (layer) =>
  readdirSync(layer, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !SHARED[layer].includes(d.name))
    .map((d) => d.name);

/** Core files that run only in Node; everything else in core also runs in pages. */
// rfm/cpuWorker.ts is the worker-thread script of rfm/node.ts (a thread runs a file, not a function).
const CORE_NODE_FILES = ['src/core/node.ts', 'src/core/*/node.ts', 'src/core/rfm/cpuWorker.ts'];

const zone = (target, from, message) => ({ target, from, message });

function layerZones() {
  return [
    zone(
      'src/core',
      ['src/extension', 'src/cli', 'src/protocol', 'webview'],
      'src/core is the bottom layer: it never imports src/extension, src/cli, src/protocol or webview/; pass what it needs in as arguments.',
    ),
    zone(
      'src/core',
      'src/core/node.ts',
      'src/core/node.ts is the Node top of core: nothing in core imports it (the extension, the CLI and tests do).',
    ),
    zone(
      'src/core/**/!(node).ts',
      'src/core/{*/node,rfm/cpuWorker}.ts',
      'Node-only file: import it from Node code (src/extension, src/cli, src/core/node.ts), never from core code that also runs in pages.',
    ),
    zone(
      ['src/protocol', 'webview'],
      'src/core/**/node.ts',
      'Node-only file: src/protocol and webview/ also run in pages.',
    ),
    zone(
      'src/protocol',
      ['src/extension', 'src/cli', 'webview'],
      'src/protocol is the message contract between host and pages: it imports only src/core.',
    ),
    zone(
      'src/extension',
      ['src/cli', 'webview'],
      'src/extension never imports src/cli (move what both need into src/core) nor webview/ (pages are their own bundles; share through src/protocol).',
    ),
    zone(
      'src/cli',
      ['src/extension', 'src/protocol', 'webview'],
      'src/cli runs core from a terminal: it imports only src/core.',
    ),
    zone(
      'webview',
      ['src/extension', 'src/cli'],
      'webview/ runs in the page: it reaches the host only through src/protocol messages.',
    ),
    zone(
      'src/extension',
      'src/extension/extension.ts',
      'src/extension/extension.ts is the top (activate): it registers the features; nothing imports it.',
    ),
  ];
}

/** Feature folders never import each other; shared folders never import features (that would be upward). */
function featureZones() {
  const zones = [];
  for (const layer of Object.keys(SHARED)) {
    const features = featureFolders(layer);
    const shared = `${layer}/{${SHARED[layer].join(',')}}`;
    for (const f of features) {
      for (const g of features) {
        if (f === g) continue;
        zones.push(
          zone(
            `${layer}/${f}`,
            `${layer}/${g}`,
            `${layer}/${f} may not import ${layer}/${g}: features do not import each other sideways; move what both need to ${shared}${layer === 'src/core' ? ' or a top file src/core/*.ts' : ''}.`,
          ),
        );
      }
    }
    const topFiles = TOP[layer] ? `${layer}/!(${TOP[layer]})` : `${layer}/*.ts`;
    const sharedTargets = [...SHARED[layer].map((s) => `${layer}/${s}`), topFiles];
    zones.push(
      zone(
        sharedTargets,
        features.map((f) => `${layer}/${f}/**`),
        `Shared code in ${layer} may not import a feature folder: features build on shared code, not the reverse.`,
      ),
    );
  }
  return zones;
}

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

const banVscode = {
  name: 'vscode',
  message: 'Only src/extension (and the extension-host tests) may import vscode.',
};
const banNode = (why) => ({
  paths: [...nodeBuiltins, 'webgpu'].map((name) => ({ name, message: why })),
  patterns: [{ regex: '^node:', message: why }],
});

/** no-restricted-imports per area: the areas are disjoint, because a later match would replace the options. */
const moduleBans = [
  {
    files: ['src/core/**/*.ts'],
    ignores: CORE_NODE_FILES,
    ...banNode(
      'Core also runs in pages: Node APIs (and Dawn) live in src/core/node.ts, src/core/data/node.ts, src/core/weights/node.ts.',
    ),
  },
  { files: CORE_NODE_FILES },
  {
    files: ['src/protocol/**/*.ts'],
    ...banNode('src/protocol is shared by the host and the pages: no Node APIs.'),
  },
  {
    files: ['webview/**/*.ts'],
    ...banNode('webview/ runs in the page: no Node APIs (ask the host through src/protocol).'),
  },
  { files: ['src/cli/**/*.ts'] },
  // The extension host parses datasets on a worker thread; the core loaders would hold it for seconds.
  {
    files: ['src/extension/**/*.ts'],
    ignores: ['src/extension/host/datasets.ts'],
    allowVscode: true,
    patterns: [
      {
        regex: 'core/data(/index)?$',
        importNames: ['loadDataset', 'inspectDataset'],
        message: 'In the extension host, load datasets through src/extension/host/datasets.ts (a worker thread).',
      },
    ],
  },
].map(({ files, ignores, allowVscode = false, paths = [], patterns = [] }) => ({
  files,
  ...(ignores ? { ignores } : {}),
  rules: { 'no-restricted-imports': ['error', { paths: allowVscode ? paths : [banVscode, ...paths], patterns }] },
}));

const domGlobals = ['window', 'document', 'navigator', 'self', 'location', 'localStorage', 'sessionStorage'].map(
  (name) => ({ name, message: `No DOM in core and protocol: ${name} exists only in pages; pass what is needed in.` }),
);
const nodeGlobals = ['process', 'Buffer', 'global', 'require', '__dirname', '__filename'].map((name) => ({
  name,
  message: `${name} is Node-only: core and protocol also run in pages (use src/core/node.ts or the caller).`,
}));

export default defineConfig(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.e2e/**', '.vscode-test/**', 'test/fixtures/**', 'media/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.mjs', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.js', '.json'] })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `const { dropped: _, ...kept } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: [...layerZones(), ...featureZones()] }],
    },
  },
  // Which runtime's globals each area gets.
  { files: ['src/core/**', 'src/protocol/**'], languageOptions: { globals: {} } },
  {
    files: ['src/core/**', 'src/protocol/**'],
    ignores: CORE_NODE_FILES,
    rules: { 'no-restricted-globals': ['error', ...domGlobals, ...nodeGlobals] },
  },
  { files: CORE_NODE_FILES, languageOptions: { globals: globals.node } },
  { files: ['webview/**', 'test/gpu/browser/**'], languageOptions: { globals: globals.browser } },
  {
    files: ['src/extension/**', 'src/cli/**', 'test/**', 'bench/**', 'scripts/**', '*.mjs'],
    ignores: ['test/gpu/browser/**'],
    languageOptions: { globals: globals.node },
  },
  { files: ['test/e2e/**'], languageOptions: { globals: globals.mocha } },
  ...moduleBans,
);
