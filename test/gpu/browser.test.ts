// The WebGPU backend in headless Chromium (SwiftShader's WebGPU): a page bundled with esbuild fits
// iris through WebGpuBackend on navigator.gpu and through the CPU backend, and the two must agree.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { relErr } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('WebGPU backend in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let url = '';
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
    const bundle = await esbuild.build({
      entryPoints: [new URL('./browser/page.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      loader: { '.wgsl': 'text' },
      logLevel: 'warning',
    });
    const js = bundle.outputFiles[0].text;
    const csv = readFileSync(new URL('../fixtures/iris.csv', import.meta.url), 'utf8');
    const html = `<!doctype html><meta charset="utf-8"><script>window.__csv = ${JSON.stringify(csv)};</script><script src="/page.js"></script>`;
    // Served from localhost: WebGPU needs a secure context.
    server = createServer((req, res) => {
      if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('fits iris on navigator.gpu like the CPU backend', { timeout: 300_000 }, async (t) => {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(url);
    await page.waitForFunction(
      () => (globalThis as unknown as { __result?: unknown }).__result !== undefined,
      undefined,
      {
        timeout: 280_000,
      },
    );
    const r = (await page.evaluate(() => (globalThis as unknown as { __result: unknown }).__result)) as {
      error?: string;
      gpu: {
        backend: string;
        device: string;
        test_metric: number;
        test_mse: number;
        M: number[][];
        importance: number[];
      };
      cpu: { test_metric: number; test_mse: number; M: number[][]; importance: number[] };
      liveBuffers: number;
    };
    assert.equal(r.error, undefined, `${r.error}\n${logs.join('\n')}`);
    assert.equal(r.gpu.backend, 'webgpu');
    assert.match(r.gpu.device, /^webgpu /);
    assert.equal(r.gpu.test_metric, r.cpu.test_metric);
    assert.ok(
      Math.abs(r.gpu.test_mse - r.cpu.test_mse) / r.cpu.test_mse < 1e-3,
      `test MSE ${r.gpu.test_mse} vs ${r.cpu.test_mse}`,
    );
    assert.ok(relErr(r.gpu.M.flat(), r.cpu.M.flat()) < 1e-3, `M error ${relErr(r.gpu.M.flat(), r.cpu.M.flat())}`);
    const top = (v: number[]) =>
      v
        .map((x, i) => [x, i])
        .sort((a, b) => b[0] - a[0])
        .slice(0, 2)
        .map((p) => p[1]);
    assert.deepEqual(top(r.gpu.importance), top(r.cpu.importance));
    assert.equal(r.liveBuffers, 0);
    t.diagnostic(`chromium adapter: ${r.gpu.device}`);
    await page.close();
  });
});
