// The ConvRFM view: per-iteration metrics (as they arrive), then diag(M) and M's top eigenvectors drawn
// as C x q x q filters (the patch features ConvRFM learned), M as a heatmap, and the report to copy.
import { matrixImages } from '../../src/core/data/images';
import { unhandled } from '../../src/protocol/channel';
import type {
  ConvRfmHostToWebview,
  ConvRfmPanelState,
  ConvRfmView,
  ConvRfmWebviewToHost,
  WireConvRfmIteration,
} from '../../src/protocol/convrfm';
import { el } from '../shared/dom';
import { Heatmap } from '../shared/heatmap';
import { renderImageGrid } from '../shared/images';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';

/** Eigenvectors drawn as filters (at most D). */
const FILTERS = 8;

let theme: Theme = readTheme();
let view: ConvRfmView | null = null;

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'ConvRFM');
const info = el('div', { class: 'final', id: 'info' }, '');
const status = el('div', { class: 'status', id: 'status', role: 'status' }, 'Fitting…');
const copyJson = el('button', { id: 'copy-json', class: 'secondary' }, 'Copy as JSON');
copyJson.disabled = true;
header.append(title, info, status, copyJson);

const metrics = el('table', { class: 'numbers', id: 'iterations', 'aria-label': 'Metrics per iteration' });
const filtersHeading = el('h3', {}, 'Patch features: diag(M) and the top eigenvectors of M as filters');
const filters = el('div', { id: 'filters' });
const mHeading = el('h3', {}, 'M (patch feature matrix)');
const canvas = el('canvas', { id: 'm', role: 'img', 'aria-label': 'Heatmap of M' });
const tip = el('div', { class: 'tip' });
tip.hidden = true;
const heatmap = new Heatmap(canvas, tip, () => theme);
const mBody = el('div', { class: 'heatmap' });
mBody.append(canvas, tip);
for (const e of [filtersHeading, filters, mHeading, mBody]) e.hidden = true;
app.append(header, metrics, filtersHeading, filters, mHeading, mBody);

function drawMetrics(rows: WireConvRfmIteration[], task: string): void {
  const m = task === 'regression' ? 'R²' : 'accuracy';
  const head = el('tr');
  for (const h of ['iteration', `train ${m}`, `test ${m}`, 'test MSE', 'seconds']) head.append(el('th', {}, h));
  const fmt = (v: number | null, digits = 4) => (v === null ? '–' : v.toFixed(digits));
  const body = rows.map((it) => {
    const tr = el('tr');
    for (const [v, cls] of [
      [String(it.iter), 'num'],
      [fmt(it.trainMetric), 'num'],
      [fmt(it.testMetric), 'num'],
      [fmt(it.testMse, 5), 'num'],
      [it.seconds.toFixed(2), 'num'],
    ])
      tr.append(el('td', { class: cls }, v));
    return tr;
  });
  metrics.replaceChildren(head, ...body);
}

function show(v: ConvRfmView): void {
  view = v;
  const [c, h, w] = v.imageShape;
  title.textContent = v.title;
  info.textContent = `${v.data}: ${v.nTrain} train / ${v.nTest} test images of ${c} × ${h} × ${w}; patches ${c} × ${v.patch} × ${v.patch}, stride ${v.stride} (${v.positions} positions); ${v.kernel} kernel, L = ${v.bandwidth}; ${v.device}`;
  const last = v.iterations[v.iterations.length - 1];
  status.textContent = last
    ? `Final: test ${v.task === 'regression' ? 'R²' : 'accuracy'} ${last.testMetric?.toFixed(4) ?? '–'} (iteration 0: ${v.iterations[0].testMetric?.toFixed(4) ?? '–'})`
    : '';
  drawMetrics(v.iterations, v.task);
  const M = new Float64Array(v.M);
  const shape = [c, v.patch, v.patch] as const;
  renderImageGrid(filters, matrixImages(M, shape, Math.min(FILTERS, v.patchDim), 'M'), { scale: 16 });
  const names = [];
  for (let k = 0; k < c; k++)
    for (let a = 0; a < v.patch; a++)
      for (let b = 0; b < v.patch; b++) names.push(c > 1 ? `c${k} ${a},${b}` : `${a},${b}`);
  heatmap.set({ values: M, names, label: 'M' });
  for (const e of [filtersHeading, filters, mHeading, mBody]) e.hidden = false;
  copyJson.disabled = false;
}

function onMessage(m: ConvRfmHostToWebview): void {
  switch (m.type) {
    case 'persist':
      // Kept by VS Code with the tab: a reload fits the same file with the same options again.
      host.setState(m.state);
      break;
    case 'progress':
      status.textContent = m.message;
      drawMetrics(m.iterations, view?.task ?? 'classification');
      break;
    case 'show':
      show(m.view);
      break;
    case 'failed':
      status.textContent = m.message;
      status.classList.add('error');
      break;
    default:
      unhandled(m);
  }
}

copyJson.addEventListener(
  'click',
  () => view && host.post({ type: 'copy', what: 'ConvRFM report (JSON)', text: view.report }),
);
onThemeChange(() => {
  theme = readTheme();
  heatmap.draw();
});

const host = connect<ConvRfmWebviewToHost, ConvRfmHostToWebview, ConvRfmPanelState>(onMessage);
