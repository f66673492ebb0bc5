// The lin-RFM command as package.json contributes it: titled, on the explorer's menu for .npy and .csv
// files only (the `when` clause evaluated here as VS Code's =~ does), its view revivable after a reload
// and its page bundled.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
  };
};

test('Complete Matrix (lin-RFM) is a titled command on the explorer menu of .npy and .csv files', () => {
  const cmd = pkg.contributes.commands.find((c) => c.command === 'featureLens.completeMatrix');
  assert.deepEqual([cmd?.title, cmd?.category], ['Complete Matrix (lin-RFM)', 'Feature Lens']);
  const menu = pkg.contributes.menus['explorer/context'].filter((m) => m.command === 'featureLens.completeMatrix');
  assert.equal(menu.length, 1);
  const when = menu[0].when ?? '';
  assert.match(when, /^!explorerResourceIsFolder && resourceExtname =~ /);
  const re = /=~ \/(.*)\/(\w*)$/.exec(when);
  assert.ok(re, when);
  const ext = new RegExp(re[1], re[2]);
  for (const name of ['.npy', '.csv', '.NPY', '.Csv']) assert.ok(ext.test(name), name);
  for (const name of ['.npz', '.parquet', '.csv.bak', '.safetensors', '']) assert.ok(!ext.test(name), name);
  // Save is reached from the panel (and by scripts), not from the palette without a panel.
  const hidden = pkg.contributes.menus.commandPalette.find((m) => m.command === 'featureLens.saveCompletedMatrix');
  assert.equal(hidden?.when, 'false');
});

test('the lin-RFM view revives after a reload and its page is bundled', () => {
  assert.ok(pkg.activationEvents.includes('onWebviewPanel:featureLens.linrfm'));
  const esbuild = readFileSync(new URL('esbuild.mjs', root), 'utf8');
  assert.match(esbuild, /entryPoints: \['webview\/linrfm\/main\.ts'\],\s*outfile: 'dist\/linrfm\.js'/);
});
