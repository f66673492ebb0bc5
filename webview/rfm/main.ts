// The RFM panel: draws a run (live while it fits) and fits on the placement the host gives it.
import { detectImageShape, matrixImages, type DetectedImage } from '../../src/core/data/images';
import { signedEigenpairs } from '../../src/core/linalg/eigh';
import type { SavedIteration } from '../../src/core/rfm/serialize';
import type { FitRequest, HostToWebview, PanelState, RunView, WebviewToHost } from '../../src/protocol/rfm';
import { bufferOf } from '../../src/protocol/wire';
import { unhandled } from '../../src/protocol/channel';
import type { Reply } from '../../src/protocol/channel';
import { baseOptions, ChartSet, seriesColor, themedAxis, type ChartConfiguration } from '../shared/charts';
import { el } from '../shared/dom';
import { Heatmap } from '../shared/heatmap';
import { renderImageGrid } from '../shared/images';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';
import { fitOnPage } from './compute';

type ChartId = 'metric' | 'mse' | 'importance' | 'spectrum' | 'loadings' | 'timings';

const CARDS: { id: ChartId | 'heatmap' | 'images'; title: string; wide?: boolean }[] = [
  { id: 'metric', title: 'Metric per iteration' },
  { id: 'mse', title: 'MSE per iteration' },
  { id: 'heatmap', title: 'Feature matrix M', wide: true },
  { id: 'images', title: 'M as images', wide: true },
  { id: 'importance', title: 'Importances: diag(M), sorted' },
  { id: 'spectrum', title: 'Eigenvalues of M' },
  { id: 'loadings', title: 'Top eigenvectors: loadings', wide: true },
  { id: 'timings', title: 'Seconds per phase and iteration' },
];

let view: RunView | null = null;
let theme: Theme = readTheme();
const running = new Map<string, { cancelled: boolean }>();

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
let imagesCard: HTMLElement;
let imagesBody: HTMLElement;
for (const c of CARDS) {
  const card = el('section', { class: c.wide ? 'card wide' : 'card', id: `card-${c.id}` });
  card.append(el('h3', {}, c.title));
  if (c.id === 'images') {
    // Shown only when the features are an image (names like px_r_c, a square count, a declared shape).
    imagesCard = card;
    imagesBody = el('div', { id: 'images' });
    card.append(el('p', { class: 'status', id: 'images-note' }, ''), imagesBody);
    card.hidden = true;
    grid.append(card);
    continue;
  }
  // The heatmap's box scrolls when M is large: focusable, so the keyboard can scroll it too.
  const wrap =
    c.id === 'heatmap'
      ? el('div', { class: 'heatwrap', tabindex: '0', role: 'region', 'aria-label': `${c.title} (scrollable)` })
      : el('div', { class: 'chartwrap' });
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
// An xRFM tree fit (core/rfm/tree.ts): its shape and one row per leaf, above the charts of the averaged M.
const treeCard = el('section', { class: 'card wide', id: 'card-tree' });
const treeTitle = el('h3', {}, 'xRFM tree');
const treeTable = el('table', { class: 'numbers', id: 'tree-leaves' });
treeCard.append(treeTitle, treeTable);
treeCard.hidden = true;
grid.prepend(treeCard);
app.append(header, grid);
const charts = new ChartSet<ChartId>((id) => canvases.get(id)!);

function metricName(): string {
  return view?.task === 'regression' ? 'R²' : 'accuracy';
}

const series = (i: number) => seriesColor(theme, i);

function drawCurves(iters: readonly SavedIteration[]): void {
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
  // Saved runs from before reports kept train_mse have none: no empty "train MSE" series then.
  const curves = (name: string, train: (number | null)[], test: (number | null)[]) => [
    ...(train.some((v) => v !== null) ? [line(`train ${name}`, train, 0)] : []),
    ...(hasTest ? [line(`validation ${name}`, test, 1, true)] : []),
  ];
  charts.set('metric', {
    type: 'line',
    data: {
      labels,
      datasets: curves(
        metricName(),
        iters.map((r) => r.trainMetric),
        iters.map((r) => r.testMetric),
      ),
    },
    options: baseOptions(theme, 'iteration', metricName()),
  });
  charts.set('mse', {
    type: 'line',
    data: {
      labels,
      datasets: curves(
        'MSE',
        iters.map((r) => r.trainMse),
        iters.map((r) => r.testMse),
      ),
    },
    options: baseOptions(theme, 'iteration', 'MSE'),
  });
  const phases = ['kernel', 'solve', 'predict', 'agop'] as const;
  charts.set('timings', {
    type: 'bar',
    data: {
      labels,
      datasets: phases.map((p, i) => ({ label: p, data: iters.map((r) => r.phases[p]), backgroundColor: series(i) })),
    },
    options: {
      ...baseOptions(theme, 'iteration', 'seconds'),
      scales: {
        x: { ...themedAxis(theme, ''), type: 'category', stacked: true },
        y: { ...themedAxis(theme, 'seconds'), stacked: true },
      },
    } as ChartConfiguration['options'],
  });
}

/** Features ordered by importance, the first k shown in the heatmap and loadings. */
function topFeatures(M: Float64Array, d: number, k: number): number[] {
  return [...Array(d).keys()].sort((a, b) => M[b * d + b] - M[a * d + a]).slice(0, k);
}

function drawMatrix(): void {
  if (!view || !view.M) {
    heatmap.set(null);
    drawImages(null);
    return;
  }
  const M = new Float64Array(view.M);
  const d = view.featureNames.length;
  if (M.length !== d * d) return;
  drawImages(M);
  const k = Math.min(d, Number(kInput.value) || d);
  const idx = topFeatures(M, d, k);
  const names = idx.map((i) => view!.featureNames[i]);
  const sub = new Float64Array(k * k);
  idx.forEach((a, i) => idx.forEach((b, j) => (sub[i * k + j] = M[a * d + b])));
  heatmap.set({ values: sub, names });
  document.querySelector('#card-heatmap h3')!.textContent =
    k < d ? `Feature matrix M (top ${k} of ${d} by importance)` : 'Feature matrix M';

  charts.set('importance', {
    type: 'bar',
    data: {
      labels: names,
      datasets: [{ label: 'diag(M)', data: idx.map((i) => M[i * d + i]), backgroundColor: series(0) }],
    },
    options: {
      ...baseOptions(theme, '', ''),
      indexAxis: 'y',
      scales: { x: themedAxis(theme, ''), y: { ...themedAxis(theme, ''), type: 'category' } },
      plugins: { legend: { display: false } },
    } as ChartConfiguration['options'],
  });

  // The spectrum of the whole M when small enough; otherwise of the block of the top features.
  const full = d <= 256;
  const eig = signedEigenpairs(full ? M : sub, full ? d : k);
  const shownVals = Array.from(eig.values.subarray(0, Math.min(eig.values.length, 50)));
  charts.set('spectrum', {
    type: 'bar',
    data: {
      labels: shownVals.map((_, i) => `λ${i + 1}`),
      datasets: [
        { label: full ? 'eigenvalue' : `eigenvalue (top-${k} block)`, data: shownVals, backgroundColor: series(2) },
      ],
    },
    options: {
      ...baseOptions(theme, '', 'eigenvalue'),
      plugins: { legend: { display: !full, labels: { color: theme.foreground } } },
    } as ChartConfiguration['options'],
  });
  const nvec = Math.min(3, eig.vectors.length);
  const loadingIdx = full ? idx : [...Array(k).keys()];
  charts.set('loadings', {
    type: 'bar',
    data: {
      labels: names,
      datasets: eig.vectors.slice(0, nvec).map((v, i) => ({
        label: `v${i + 1} (λ=${eig.values[i].toPrecision(3)})`,
        data: loadingIdx.map((f) => v[f]),
        backgroundColor: series(i + 3),
      })),
    },
    options: baseOptions(theme, '', 'loading'),
  });
}

const SOURCE: Record<DetectedImage['source'], string> = {
  declared: 'declared by the dataset',
  names: 'from the pixel names',
  numbered: 'from the numbered pixel names',
  square: 'a square number of numbered columns',
};

/** diag(M) and M's top eigenvectors as images, when the features are the pixels of an image. */
function drawImages(M: Float64Array | null): void {
  const det = view && M ? detectImageShape(view.featureNames, view.imageShape) : null;
  imagesCard.hidden = !det;
  if (!det || !M) {
    imagesBody.replaceChildren();
    return;
  }
  const [c, h, w] = det.shape;
  imagesCard.querySelector('h3')!.textContent = `M as ${c > 1 ? `${c} × ` : ''}${h} × ${w} images`;
  document.getElementById('images-note')!.textContent =
    `Image shape ${SOURCE[det.source]}. diag(M) in grey (dark = no weight); eigenvectors blue below 0, red above.`;
  renderImageGrid(imagesBody, matrixImages(M, det.shape, 3));
}

function drawHeader(): void {
  if (!view) return;
  title.textContent = view.title;
  const f = view.final;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(4));
  // The train MSE of the selected round, when the run has it (live fits; reports with train_mse).
  const trainMse = view.iterations.find((r) => r.iter === view!.bestIter)?.trainMse ?? null;
  finalLine.textContent = f
    ? [
        `train ${metricName()} ${fmt(f.trainMetric)}`,
        ...(trainMse !== null ? [`train MSE ${fmt(trainMse)}`] : []),
        `validation ${metricName()} ${fmt(f.testMetric)}`,
        `validation MSE ${fmt(f.testMse)}`,
        ...(view.seconds !== null ? [`${view.seconds.toFixed(2)} s`] : []),
      ].join(' · ')
    : '';
  if (view.backend) setBackend(view.backend, view.device ?? '', view.backendReason ?? '');
  // An iterative solver of the returned round (rfm/solvers.ts), as the CLI names it; the direct solve goes unsaid.
  const solve = (view.iterations[view.bestIter] ?? view.iterations[view.iterations.length - 1])?.solve;
  if (view.backend && solve && solve.solver !== 'direct')
    backendLine.textContent += ` · solver ${solve.solver} (${solve.iterations} ${solve.solver === 'cg' ? 'iterations' : 'epochs'}, residual ${solve.relResidual.toExponential(1)})`;
  const d = view.featureNames.length;
  kInput.max = String(Math.max(2, d));
  if (!kInput.dataset.touched) kInput.value = String(Math.min(d, view.topK));
  kValue.textContent = `${kInput.value} of ${d}`;
  controls.hidden = d <= 2;
}

/**
 * One short phrase ("Backend: WebGPU in the panel"; "… (fallback; hover for why)"); the device and why this placement ran (which can be a
 * long adapter explanation) are on hover and in the Feature Lens log, not the page's most prominent line.
 */
function setBackend(backend: string, device: string, reason: string): void {
  const name = backend === 'webgpu' ? 'WebGPU' : backend === 'cpu' ? 'CPU' : backend;
  // reason is core/compute.ts's line: "CPU in the panel (WebGPU in the panel: no adapter …; …)".
  const cut = reason.indexOf(' (');
  const where = reason ? (cut > 0 ? reason.slice(0, cut) : reason) : name;
  backendLine.textContent = `Backend: ${where}${cut > 0 ? ' (fallback; hover for why)' : ''}`;
  backendLine.title = [device && `Device: ${device}`, reason && `Why: ${reason}`, 'Details: Feature Lens output log']
    .filter(Boolean)
    .join('\n');
  backendLine.dataset.backend = backend;
  backendLine.className = `backend ${backend}`;
}

function drawTree(): void {
  const t = view?.tree;
  treeCard.hidden = !t || t.leaves < 2;
  if (!t || !view) return;
  const names = view.featureNames;
  treeTitle.textContent = `xRFM tree: ${t.leaves} leaves, depth ${t.depth}, ${t.temperature > 0 ? `soft routing (temperature ${t.temperature})` : 'hard routing'} — M and importances below are the size-weighted average of the leaves'`;
  const m = metricName();
  const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(4));
  const head = el('tr');
  for (const h of [
    'leaf',
    'rows',
    'depth',
    'best iteration',
    `train ${m}`,
    `validation ${m}`,
    'validation MSE',
    's',
    'top features',
  ])
    head.append(el('th', {}, h));
  const rows = t.leafFits.map((f, l) => {
    const tr = el('tr');
    const cells: [string, boolean][] = [
      [String(l), true],
      [String(f.size), true],
      [String(f.depth), true],
      [String(f.bestIter), true],
      [fmt(f.trainMetric), true],
      [fmt(f.testMetric), true],
      [fmt(f.testMse), true],
      [f.seconds.toFixed(2), true],
      [
        f.top
          .slice(0, 5)
          .map((j) => names[j] ?? String(j))
          .join(', '),
        false,
      ],
    ];
    for (const [text, num] of cells) tr.append(el('td', num ? { class: 'num' } : {}, text));
    return tr;
  });
  treeTable.replaceChildren(el('thead'), el('tbody'));
  treeTable.tHead!.append(head);
  treeTable.tBodies[0].append(...rows);
}

function render(): void {
  drawHeader();
  drawTree();
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

/** Fits where the host asked; draws as it goes and keeps the result (the host only says when it is saved). */
async function fit(m: FitRequest, reply: Reply<WebviewToHost> | undefined): Promise<void> {
  view = { ...m.view, iterations: [] };
  // The fit's id is the run's id: remember it now, so a reload during or right after the fit revives this run.
  link.setState({ runId: m.fitId });
  status.textContent =
    m.placement === 'page-gpu' ? 'Fitting on WebGPU in the panel…' : 'Fitting on the CPU in the panel…';
  render();
  const cancel = { cancelled: false };
  running.set(m.fitId, cancel);
  try {
    const { reply: answer, result } = await fitOnPage(m, cancel, {
      onStart: (b) => {
        if (view) Object.assign(view, { backend: b.name, device: b.device });
        setBackend(b.name, b.device, m.view.backendReason ?? '');
      },
      onIteration: (record) => {
        link.post({ type: 'iteration', fitId: m.fitId, record });
        view?.iterations.push(record);
        drawCurves(view?.iterations ?? []);
      },
    });
    if (result && view) {
      Object.assign(view, {
        M: bufferOf(result.M),
        final: result.final,
        seconds: result.seconds,
        bestIter: result.bestIter,
        iterations: result.iterations,
      });
      status.textContent = '';
      render();
    }
    reply?.(answer);
  } finally {
    running.delete(m.fitId);
  }
}

function onMessage(m: HostToWebview, reply: Reply<WebviewToHost> | undefined): unknown {
  switch (m.type) {
    case 'fit':
      return fit(m, reply);
    case 'cancel': {
      const c = running.get(m.fitId);
      if (c) c.cancelled = true;
      return undefined;
    }
    case 'show':
      view = m.view;
      // Where it runs is the backend line (with the long why on hover), not the status.
      status.textContent = view.M ? '' : 'Fitting…';
      if (view.runId) link.setState({ runId: view.runId });
      render();
      return undefined;
    case 'saved':
      if (view) view.runId = m.runId;
      link.setState({ runId: m.runId });
      return undefined;
    case 'iteration':
      view?.iterations.push(m.record);
      drawCurves(view?.iterations ?? []);
      return undefined;
    case 'failed':
      status.textContent = m.message;
      return undefined;
    case 'exportCharts': {
      const hm = canvases.get('heatmap')!;
      return charts
        .pngs(theme, hm.dataset.ready ? { heatmap: hm } : {})
        .then((pngs) => reply?.({ type: 'charts', charts: pngs }));
    }
    default:
      return unhandled(m);
  }
}

const link = connect<WebviewToHost, HostToWebview, PanelState>(onMessage);
