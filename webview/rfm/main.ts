// The Feature Lens panel: draws a run (live while it fits) and runs fits on the page's WebGPU.
import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import type { SavedIteration } from '../../src/core/rfm/serialize';
import type { HostToWebview, PanelState, RunView, WebviewToHost } from '../../src/protocol/rfm';
import { runFitInPanel } from './compute';
import { eighSym } from '../../src/core/linalg/eigh';
import { Heatmap } from '../shared/heatmap';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { el } from '../shared/dom';

Chart.register(...registerables);

interface VsCodeApi {
  postMessage(m: WebviewToHost): void;
  getState(): PanelState | undefined;
  setState(s: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: WebviewToHost) => vscode.postMessage(m);

let view: RunView | null = null;
let theme: Theme = readTheme();
const running = new Map<string, { cancelled: boolean }>();
const charts = new Map<string, Chart>();

const CARDS: { id: string; title: string; wide?: boolean }[] = [
  { id: 'metric', title: 'Metric per iteration' },
  { id: 'mse', title: 'MSE per iteration' },
  { id: 'heatmap', title: 'Feature matrix M', wide: true },
  { id: 'importance', title: 'Importances: diag(M), sorted' },
  { id: 'spectrum', title: 'Eigenvalues of M' },
  { id: 'loadings', title: 'Top eigenvectors: loadings', wide: true },
  { id: 'timings', title: 'Seconds per phase and iteration' },
];

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'Feature Lens');
const backendLine = el('div', { id: 'backend', class: 'backend' }, '');
const finalLine = el('div', { id: 'final', class: 'final' }, '');
const status = el('div', { id: 'status', class: 'status' }, 'Waiting for a run…');
const controls = el('div', { class: 'controls' });
const kLabel = el('label', { for: 'topk' }, 'Features shown: ');
const kInput = el('input', { id: 'topk', type: 'range', min: '2', max: '2', value: '2' });
const kValue = el('span', { id: 'topk-value' }, '');
controls.append(kLabel, kInput, kValue);
header.append(title, backendLine, finalLine, status, controls);
const grid = el('main', { class: 'grid' });
const canvases = new Map<string, HTMLCanvasElement>();
let heatmap: Heatmap;
for (const c of CARDS) {
  const card = el('section', { class: c.wide ? 'card wide' : 'card', id: `card-${c.id}` });
  card.append(el('h3', {}, c.title));
  const wrap = el('div', { class: c.id === 'heatmap' ? 'heatwrap' : 'chartwrap' });
  const canvas = el('canvas', { id: c.id, role: 'img', 'aria-label': c.title });
  wrap.append(canvas);
  if (c.id === 'heatmap') {
    const tip = el('div', { class: 'tip', id: 'heatmap-tip' });
    tip.hidden = true;
    wrap.append(tip);
    heatmap = new Heatmap(canvas, tip, () => theme);
  }
  card.append(wrap);
  grid.append(card);
  canvases.set(c.id, canvas);
}
app.append(header, grid);

function metricName(): string {
  return view?.task === 'regression' ? 'R²' : 'accuracy';
}

function baseOptions(yTitle: string, xTitle: string): ChartConfiguration['options'] {
  const axis = (t: string) => ({
    ticks: { color: theme.muted },
    grid: { color: theme.grid },
    title: { display: !!t, text: t, color: theme.muted },
  });
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    color: theme.foreground,
    font: { family: theme.fontFamily },
    plugins: { legend: { labels: { color: theme.foreground } }, tooltip: { enabled: true } },
    scales: { x: axis(xTitle), y: axis(yTitle) },
  } as ChartConfiguration['options'];
}

function setChart(id: string, config: ChartConfiguration): void {
  const old = charts.get(id);
  if (old) old.destroy();
  Chart.defaults.color = theme.foreground;
  charts.set(id, new Chart(canvases.get(id)!, config));
  canvases.get(id)!.dataset.ready = '1';
}

function series(i: number): string {
  return theme.series[i % theme.series.length];
}

function drawCurves(iters: SavedIteration[]): void {
  const labels = iters.map((r) => String(r.iter));
  const hasTest = iters.some((r) => r.testMetric !== null);
  const line = (label: string, data: (number | null)[], i: number, dash = false) => ({
    label,
    data,
    borderColor: series(i),
    backgroundColor: series(i),
    borderDash: dash ? [5, 4] : [],
    pointRadius: 3,
    spanGaps: true,
  });
  setChart('metric', {
    type: 'line',
    data: {
      labels,
      datasets: [
        line(
          `train ${metricName()}`,
          iters.map((r) => r.trainMetric),
          0,
        ),
        ...(hasTest
          ? [
              line(
                `validation ${metricName()}`,
                iters.map((r) => r.testMetric),
                1,
                true,
              ),
            ]
          : []),
      ],
    },
    options: baseOptions(metricName(), 'iteration'),
  });
  setChart('mse', {
    type: 'line',
    data: {
      labels,
      datasets: [
        line(
          'train MSE',
          iters.map((r) => r.trainMse),
          0,
        ),
        ...(hasTest
          ? [
              line(
                'validation MSE',
                iters.map((r) => r.testMse),
                1,
                true,
              ),
            ]
          : []),
      ],
    },
    options: baseOptions('MSE', 'iteration'),
  });
  const phases = ['kernel', 'solve', 'predict', 'agop'] as const;
  setChart('timings', {
    type: 'bar',
    data: {
      labels,
      datasets: phases.map((p, i) => ({ label: p, data: iters.map((r) => r.phases[p]), backgroundColor: series(i) })),
    },
    options: {
      ...baseOptions('seconds', 'iteration'),
      scales: {
        x: { stacked: true, ticks: { color: theme.muted }, grid: { color: theme.grid } },
        y: {
          stacked: true,
          ticks: { color: theme.muted },
          grid: { color: theme.grid },
          title: { display: true, text: 'seconds', color: theme.muted },
        },
      },
    } as ChartConfiguration['options'],
  });
}

/** Eigenpairs of a symmetric matrix, each eigenvector signed so its largest loading is positive (reruns look alike). */
function eigenpairs(a: Float64Array, n: number): { values: number[]; vectors: Float64Array[] } {
  const { values, vectors } = eighSym(a, n);
  const vecs = [...Array(n).keys()].map((k) => {
    const v = Float64Array.from({ length: n }, (_, i) => vectors[i * n + k]);
    let big = 0;
    for (let i = 1; i < n; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) v.forEach((x, i) => (v[i] = -x));
    return v;
  });
  return { values: Array.from(values), vectors: vecs };
}

/** Features ordered by importance, the first k shown in the heatmap and loadings. */
function topFeatures(M: Float64Array, d: number, k: number): number[] {
  return [...Array(d).keys()].sort((a, b) => M[b * d + b] - M[a * d + a]).slice(0, k);
}

function drawMatrix(): void {
  if (!view || !view.M) {
    heatmap.set(null);
    return;
  }
  const M = new Float64Array(view.M);
  const d = view.featureNames.length;
  if (M.length !== d * d) return;
  const k = Math.min(d, Number(kInput.value) || d);
  const idx = topFeatures(M, d, k);
  const names = idx.map((i) => view!.featureNames[i]);
  const sub = new Float64Array(k * k);
  idx.forEach((a, i) => idx.forEach((b, j) => (sub[i * k + j] = M[a * d + b])));
  heatmap.set({ values: sub, names });
  document.querySelector('#card-heatmap h3')!.textContent =
    k < d ? `Feature matrix M (top ${k} of ${d} by importance)` : 'Feature matrix M';

  setChart('importance', {
    type: 'bar',
    data: {
      labels: names,
      datasets: [{ label: 'diag(M)', data: idx.map((i) => M[i * d + i]), backgroundColor: series(0) }],
    },
    options: {
      ...baseOptions('', ''),
      indexAxis: 'y',
      plugins: { legend: { display: false } },
    } as ChartConfiguration['options'],
  });

  // The spectrum of the whole M when small enough; otherwise of the block of the top features.
  const full = d <= 256;
  const eig = eigenpairs(full ? M : sub, full ? d : k);
  const shownVals = eig.values.slice(0, Math.min(eig.values.length, 50));
  setChart('spectrum', {
    type: 'bar',
    data: {
      labels: shownVals.map((_, i) => `λ${i + 1}`),
      datasets: [
        { label: full ? 'eigenvalue' : `eigenvalue (top-${k} block)`, data: shownVals, backgroundColor: series(2) },
      ],
    },
    options: {
      ...baseOptions('eigenvalue', ''),
      plugins: { legend: { display: !full, labels: { color: theme.foreground } } },
    } as ChartConfiguration['options'],
  });
  const nvec = Math.min(3, eig.vectors.length);
  const loadingIdx = full ? idx : [...Array(k).keys()];
  setChart('loadings', {
    type: 'bar',
    data: {
      labels: names,
      datasets: eig.vectors.slice(0, nvec).map((v, i) => ({
        label: `v${i + 1} (λ=${eig.values[i].toPrecision(3)})`,
        data: loadingIdx.map((f) => v[f]),
        backgroundColor: series(i + 3),
      })),
    },
    options: baseOptions('loading', ''),
  });
}

function drawHeader(): void {
  if (!view) return;
  title.textContent = view.title;
  const f = view.final;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(4));
  finalLine.textContent = f
    ? `train ${metricName()} ${fmt(f.trainMetric)} · validation ${metricName()} ${fmt(f.testMetric)} · validation MSE ${fmt(f.testMse)}${view.seconds !== null ? ` · ${view.seconds.toFixed(2)} s` : ''}`
    : '';
  if (view.backend) setBackend(view.backend, view.device ?? '', view.backendReason ?? '');
  const d = view.featureNames.length;
  kInput.max = String(Math.max(2, d));
  if (!kInput.dataset.touched) kInput.value = String(Math.min(d, view.topK));
  kValue.textContent = `${kInput.value} of ${d}`;
  controls.hidden = d <= 2;
}

function setBackend(backend: string, device: string, reason: string): void {
  const name = backend === 'webgpu' ? 'WebGPU' : backend === 'cpu' ? 'CPU' : backend;
  backendLine.textContent = `Backend: ${name} (${device})${reason ? ` — ${reason}` : ''}`;
  backendLine.dataset.backend = backend;
  backendLine.className = `backend ${backend}`;
}

function render(): void {
  drawHeader();
  drawCurves(view?.iterations ?? []);
  drawMatrix();
}

kInput.addEventListener('input', () => {
  kInput.dataset.touched = '1';
  kValue.textContent = `${kInput.value} of ${view?.featureNames.length ?? 0}`;
  drawMatrix();
});

onThemeChange(() => {
  theme = readTheme();
  render();
});
window.addEventListener('resize', () => heatmap.draw());

async function exportCharts(requestId: string): Promise<void> {
  const out: { name: string; png: ArrayBuffer }[] = [];
  for (const [name, canvas] of canvases) {
    if (!canvas.dataset.ready) continue;
    // Charts are drawn on a transparent canvas; a PNG viewer would show theme-coloured text on its
    // own background, so the export is flattened onto the editor background.
    const flat = document.createElement('canvas');
    flat.width = canvas.width;
    flat.height = canvas.height;
    const g = flat.getContext('2d')!;
    g.fillStyle =
      getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() ||
      (theme.dark ? '#1e1e1e' : '#ffffff');
    g.fillRect(0, 0, flat.width, flat.height);
    g.drawImage(canvas, 0, 0);
    const blob = await new Promise<Blob | null>((r) => flat.toBlob(r, 'image/png'));
    if (blob) out.push({ name, png: await blob.arrayBuffer() });
  }
  post({ type: 'charts', requestId, charts: out });
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'show':
      view = m.view;
      status.textContent = view.M ? '' : 'Fitting…';
      if (view.runId) vscode.setState({ runId: view.runId });
      render();
      break;
    case 'fit': {
      view = { ...m.view };
      // The fit's id is the run's id: remember it now, so a reload during or right after the fit revives this run.
      vscode.setState({ runId: m.fitId });
      status.textContent = m.allowGpu ? 'Fitting on WebGPU in the panel…' : 'Fitting on the CPU in the panel…';
      render();
      const cancel = { cancelled: false };
      running.set(m.fitId, cancel);
      void runFitInPanel(m, cancel, {
        post,
        onBackend: (b, d, r) => {
          if (view) Object.assign(view, { backend: b, device: d, backendReason: r });
          setBackend(b, d, r);
        },
        onIteration: (rec) => {
          view?.iterations.push(rec);
          drawCurves(view?.iterations ?? []);
        },
        onDone: (r) => {
          if (!view) return;
          Object.assign(view, {
            M: r.M,
            final: r.final,
            seconds: r.seconds,
            bestIter: r.bestIter,
            iterations: r.iterations,
          });
          status.textContent = '';
          render();
        },
      }).finally(() => running.delete(m.fitId));
      break;
    }
    case 'cancel': {
      const c = running.get(m.fitId);
      if (c) c.cancelled = true;
      break;
    }
    case 'iteration':
      view?.iterations.push(m.record);
      drawCurves(view?.iterations ?? []);
      break;
    case 'backend':
      if (view) Object.assign(view, { backend: m.backend, device: m.device, backendReason: m.reason });
      setBackend(m.backend, m.device, m.reason);
      status.textContent = `Fitting (${m.reason})…`;
      break;
    case 'failed':
      status.textContent = m.message;
      break;
    case 'exportCharts':
      void exportCharts(m.requestId);
      break;
  }
});

post({ type: 'ready' });
