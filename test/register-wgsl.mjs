// Node loader hook for tests: `import src from './x.wgsl'` yields the file's text, as esbuild's text loader does in the bundles.
import { register } from 'node:module';
register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { readFile } from 'node:fs/promises';
export async function load(url, context, next) {
  if (url.endsWith('.wgsl')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
  }
  return next(url, context);
}`),
);
// tsx compiles this package's .ts files as CommonJS (no "type": "module"), so their `.wgsl` imports
// arrive through require() and bypass the hook above.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
createRequire(import.meta.url).extensions['.wgsl'] = (module, filename) => {
  module.exports = readFileSync(filename, 'utf8');
};
