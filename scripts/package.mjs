// Builds the platform-specific .vsix: production bundles plus the one `webgpu` dawn.node that
// matches the target (the npm package carries every platform's, 132 MB; one is ~21 MB).
// usage: node scripts/package.mjs [target]   (default linux-x64; vsce --target names)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? 'linux-x64';
const dawnDir = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
}[target];
if (!dawnDir) throw new Error(`no webgpu build for target ${target}`);

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

fs.rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
run('node', ['esbuild.mjs', '--production']);
// dist/extension.js resolves `webgpu` from dist/node_modules first: stage exactly one platform there.
const src = path.join(ROOT, 'node_modules/webgpu');
const dst = path.join(ROOT, 'dist/node_modules/webgpu');
fs.mkdirSync(path.join(dst, 'dist'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md']) fs.copyFileSync(path.join(src, f), path.join(dst, f));
fs.cpSync(path.join(src, 'dist', dawnDir), path.join(dst, 'dist', dawnDir), { recursive: true });
const out = `feature-lens-${target}.vsix`;
run('npx', [
  'vsce',
  'package',
  '--target',
  target,
  '--no-dependencies',
  '--allow-missing-repository',
  '--skip-license',
  '--no-rewrite-relative-links',
  '-o',
  out,
]);
console.log(`packaged ${out} (${(fs.statSync(path.join(ROOT, out)).size / 1024 / 1024).toFixed(1)} MB)`);
