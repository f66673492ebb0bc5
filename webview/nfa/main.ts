// The NFA view: per layer NFM_l beside AGOP_l^alpha (and the RFM's M for the first layer), the
// correlation table of every layer, the top eigenvectors compared, and the numbers to copy.
import { detectImageShape, matrixImages } from '../../src/core/data/images';
import { signedEigenpairs } from '../../src/core/linalg/eigh';
import type { NfaHostToWebview, NfaPanelState, NfaView, NfaWebviewToHost, WireNfaLayer } from '../../src/protocol/nfa';
import { baseOptions, ChartSet, seriesColor } from '../shared/charts';
import { el } from '../shared/dom';
import { Heatmap } from '../shared/heatmap';
import { renderImageGrid } from '../shared/images';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';
import { block, CORRELATION_COLUMNS, correlationRows, correlationTsv, maxAbs, topByDiagonal } from './numbers';
import { unhandled } from '../../src/protocol/channel';
import { createForm } from './form';
import { createCollapseTab } from './collapseTab';

let theme: Theme = readTheme();
let view: NfaView | null = null;
let layerIndex = 0;

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'Neural Feature Ansatz');
const info = el('div', { class: 'final', id: 'info' }, '');
const status = el('div', { class: 'status', id: 'status' }, 'Computing…');
const tabs = el('div', { class: 'tabs', id: 'layers', role: 'tablist' });
const controls = el('div', { class: 'controls' });
const alpha = el('select', { id: 'alpha', 'aria-label': 'AGOP power' });
alpha.append(el('option', { value: '1' }, 'AGOP^1'), el('option', { value: '0.5' }, 'AGOP^1/2'));
alpha.value = '0.5';
const scale = el('select', { id: 'scale', 'aria-label': 'Colour scale' });
scale.append(
  el('option', { value: 'own' }, 'each map its own scale'),
  el('option', { value: 'normalised' }, 'shared scale, each ÷ its max |entry|'),
  el('option', { value: 'raw' }, 'shared scale, raw values'),
);
const kInput = el('input', {
  id: 'k',
  type: 'number',
  min: '2',
  value: '40',
  style: 'width: 5em',
  'aria-label': 'Features shown',
});
const copyJson = el('button', { id: 'copy-json', class: 'secondary' }, 'Copy as JSON');
const copyTsv = el('button', { id: 'copy-tsv', class: 'secondary' }, 'Copy as TSV');
controls.append(
  el('span', {}, 'Compare with'),
  alpha,
  el('span', {}, 'Colours'),
  scale,
  el('span', {}, 'Features shown'),
  kInput,
  copyJson,
  copyTsv,
);
// The view's two tabs: the NFA (matrices per layer) and Neural Collapse (NC1/NC2 per layer).
const viewTabs = el('div', { class: 'tabs', id: 'view-tabs', role: 'tablist', 'aria-label': 'View' });
const nfaTab = el('button', { role: 'tab', id: 'tab-nfa', 'aria-selected': 'true' }, 'Neural Feature Ansatz');
const collapseTabButton = el(
  'button',
  { role: 'tab', id: 'tab-collapse', 'aria-selected': 'false', class: 'secondary', 'aria-controls': 'collapse' },
  'Neural Collapse',
);
viewTabs.append(nfaTab, collapseTabButton);
viewTabs.hidden = true;
header.append(title, info, status, viewTabs, tabs, controls);

const grid = el('main', { class: 'grid' });
function card(id: string, heading: string, wide = false): { card: HTMLElement; body: HTMLElement; h: HTMLElement } {
  const c = el('section', { class: wide ? 'card wide' : 'card', id: `card-${id}` });
  const h = el('h3', {}, heading);
  const body = el('div', { class: 'heatwrap' });
  c.append(h, body);
  grid.append(c);
  return { card: c, body, h };
}
function heatmapIn(id: string, heading: string): { map: Heatmap; h: HTMLElement; body: HTMLElement } {
  const { body, h } = card(id, heading);
  // The map's box scrolls for wide layers: focusable, so the keyboard can scroll it too.
  Object.entries({ tabindex: '0', role: 'region', 'aria-label': `${heading} (scrollable)` }).forEach(([k, v]) =>
    body.setAttribute(k, v),
  );
  const canvas = el('canvas', { id: `heat-${id}`, role: 'img', 'aria-label': heading });
  const tip = el('div', { class: 'tip' });
  tip.hidden = true;
  body.append(canvas, tip);
  return { map: new Heatmap(canvas, tip, () => theme), h, body };
}
const nfmMap = heatmapIn('nfm', 'NFM');
const agopMap = heatmapIn('agop', 'AGOP');
const rfmMap = heatmapIn('rfm', 'RFM M');
const rfmNote = el('p', { class: 'status' }, '');
rfmMap.body.append(rfmNote);
// Images: the first layer's NFM and AGOP (and the RFM's M) as images when the inputs are pixels.
const images = card('images', 'As images', true);
images.body.className = '';
images.card.hidden = true;
const corr = card('correlations', 'Correlations per layer (NFM_l against the network AGOP at layer l’s input)', true);
const corrTable = el('table', { class: 'numbers', id: 'correlations' });
corr.body.className = '';
corr.body.append(corrTable);
const eig = card('eigen', 'Top eigenvectors compared', true);
eig.body.className = '';
const eigTable = el('table', { class: 'numbers', id: 'eigen' });
const eigWrap = el('div', { class: 'chartwrap' });
const eigCanvas = el('canvas', { id: 'eigen-chart', role: 'img', 'aria-label': 'Top eigenvector loadings' });
eigWrap.append(eigCanvas);
eig.body.append(eigTable, eigWrap);
// Conv layers (docs/science.md §6): the top eigenvectors of W^T W and of the patch-AGOP as c x kh x kw filters.
const filters = card('filters', 'Top eigenvectors as filters', true);
filters.body.className = '';
filters.card.hidden = true;
const form = createForm((m) => host.post(m));
form.element.hidden = true;
const collapseTab = createCollapseTab(
  () => theme,
  (text) => host.post({ type: 'copy', what: 'neural-collapse report (JSON)', text }),
);
collapseTab.element.style.display = 'none';
let showCollapse = false;
function selectView(collapse: boolean): void {
  showCollapse = collapse;
  nfaTab.setAttribute('aria-selected', String(!collapse));
  collapseTabButton.setAttribute('aria-selected', String(collapse));
  nfaTab.className = collapse ? 'secondary' : '';
  collapseTabButton.className = collapse ? '' : 'secondary';
  // style.display: these have a display of their own in the stylesheet, which the hidden attribute loses to.
  const display = (e: HTMLElement, on: boolean) => (e.style.display = on ? '' : 'none');
  grid.hidden = collapse || view === null;
  display(grid, !collapse);
  display(tabs, !collapse);
  display(controls, !collapse);
  display(collapseTab.element, collapse && view !== null);
  if (collapse) collapseTab.draw();
  else render();
}
nfaTab.addEventListener('click', () => selectView(false));
collapseTabButton.addEventListener('click', () => selectView(true));
app.append(header, form.element, grid, collapseTab.element);
const charts = new ChartSet<'eigen'>(() => eigCanvas);

const f64 = (b: ArrayBuffer) => new Float64Array(b);
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '—');

function drawTabs(): void {
  tabs.textContent = '';
  view?.layers.forEach((l, i) => {
    const b = el(
      'button',
      { role: 'tab', 'aria-selected': String(i === layerIndex), class: i === layerIndex ? '' : 'secondary' },
      `${l.kind === 'conv' ? 'conv ' : ''}${l.name} [${l.filter ? `${l.shape[0]}×${l.filter.join('×')}` : l.shape.join('×')}]`,
    );
    b.addEventListener('click', () => {
      layerIndex = i;
      render();
    });
    tabs.append(b);
  });
}

function drawMaps(layer: WireNfaLayer): void {
  const d = layer.shape[1];
  const nfm = f64(layer.nfm);
  const power = alpha.value === '1' ? 'AGOP' : 'AGOP^1/2';
  const agop = f64(alpha.value === '1' ? layer.agop : layer.sqrtAgop);
  const rfm = view?.rfm && layerIndex === 0 && view.rfm.d === d ? f64(view.rfm.M) : null;
  const k = Math.max(2, Math.min(d, Number(kInput.value) || d));
  const idx = topByDiagonal(nfm, d, k);
  const names = idx.map((i) => layer.inputNames[i] ?? String(i));
  let blocks = [block(nfm, d, idx), block(agop, d, idx), rfm ? block(rfm, d, idx) : null];
  let shared: number | undefined;
  if (scale.value === 'normalised') {
    // Each matrix divided by its own largest |entry|, so the maps compare shape, not magnitude.
    blocks = blocks.map((b, i) => {
      if (!b) return b;
      const full = [nfm, agop, rfm][i]!;
      const m = maxAbs(full) || 1;
      return b.map((v) => v / m);
    });
    shared = 1;
  } else if (scale.value === 'raw') {
    shared = Math.max(...blocks.map((b) => (b ? maxAbs(b) : 0)));
  }
  const suffix = k < d ? ` (top ${k} of ${d} inputs by NFM diagonal)` : '';
  nfmMap.h.textContent = `NFM of ${layer.name} = W^T W${view?.minusInit ? ' (minus init)' : ''}${suffix}`;
  agopMap.h.textContent =
    layer.kind === 'conv'
      ? `Patch-${power} of ${layer.name} (over its ${layer.filter!.join('×')} input patches)${suffix}`
      : `Network ${power} at the input of ${layer.name}${suffix}`;
  nfmMap.map.set({ values: blocks[0]!, names, scale: shared, label: 'NFM' });
  agopMap.map.set({ values: blocks[1]!, names, scale: shared, label: power });
  if (blocks[2]) {
    rfmMap.h.textContent = `RFM M (${view!.rfm!.source === 'fit' ? 'fitted on the same rows' : `run ${view!.rfm!.source}`})${suffix}`;
    rfmMap.map.set({ values: blocks[2], names, scale: shared, label: 'M' });
    rfmNote.textContent = '';
  } else {
    rfmMap.map.set(null);
    rfmMap.h.textContent = 'RFM M';
    rfmNote.textContent = !view?.rfm
      ? 'No RFM comparison in this computation.'
      : 'The RFM works on the data’s features: it is compared with the first layer.';
  }
}

function drawCorrelations(): void {
  if (!view) return;
  corrTable.textContent = '';
  const head = el('tr');
  head.append(el('th', {}, 'layer'), ...CORRELATION_COLUMNS.map((c) => el('th', {}, c.label)));
  corrTable.append(el('thead'));
  corrTable.tHead!.append(head);
  const body = el('tbody');
  for (const r of correlationRows(view.layers, view.rfm)) {
    const tr = el('tr');
    tr.append(el('td', {}, r.label), ...r.values.map((v) => el('td', { class: 'num', title: String(v) }, fmt(v))));
    body.append(tr);
  }
  corrTable.append(body);
}

function drawEigen(layer: WireNfaLayer): void {
  if (!view) return;
  eigTable.textContent = '';
  const k = Math.max(...view.layers.map((l) => l.eigen.k));
  const head = el('tr');
  head.append(
    el('th', {}, 'layer'),
    ...[...Array(k).keys()].map((i) => el('th', {}, `|cos(u${i + 1}, v${i + 1})|`)),
    el('th', {}, `top-${k} subspace overlap`),
  );
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  for (const l of view.layers) {
    const tr = el('tr');
    tr.append(
      el('td', {}, l.name),
      ...[...Array(k).keys()].map((i) => el('td', { class: 'num' }, fmt(l.eigen.cosines[i] ?? NaN))),
      el('td', { class: 'num' }, fmt(l.eigen.subspace_overlap)),
    );
    body.append(tr);
  }
  eigTable.append(thead, body);

  const d = layer.shape[1];
  const u = signedEigenpairs(f64(layer.nfm), d, 2).vectors;
  const v = signedEigenpairs(f64(layer.agop), d, 2).vectors;
  // Show the inputs that matter most to either first eigenvector.
  const order = [...Array(d).keys()]
    .sort((a, b) => Math.max(Math.abs(u[0][b]), Math.abs(v[0][b])) - Math.max(Math.abs(u[0][a]), Math.abs(v[0][a])))
    .slice(0, 40);
  const align = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += x[i] * y[i];
    return s < 0 ? -1 : 1;
  };
  const datasets = [
    { label: 'NFM u1', data: order.map((i) => u[0][i]), backgroundColor: seriesColor(theme, 0) },
    { label: 'AGOP v1', data: order.map((i) => align(v[0], u[0]) * v[0][i]), backgroundColor: seriesColor(theme, 1) },
    ...(d > 1
      ? [
          { label: 'NFM u2', data: order.map((i) => u[1][i]), backgroundColor: seriesColor(theme, 2) },
          {
            label: 'AGOP v2',
            data: order.map((i) => align(v[1], u[1]) * v[1][i]),
            backgroundColor: seriesColor(theme, 3),
          },
        ]
      : []),
  ];
  charts.set('eigen', {
    type: 'bar',
    data: { labels: order.map((i) => layer.inputNames[i] ?? String(i)), datasets },
    options: baseOptions(theme, '', 'loading'),
  });
  eig.h.textContent = `Top eigenvectors compared (loadings for ${layer.name}; AGOP and AGOP^1/2 share eigenvectors)`;
}

function drawFilters(layer: WireNfaLayer): void {
  filters.card.hidden = !layer.filter;
  if (!layer.filter) return;
  const k = Math.min(4, layer.shape[1]);
  filters.h.textContent = `${layer.name}: diagonal and top eigenvectors of W^T W and the patch-AGOP as ${layer.filter.join('×')} filters (blue < 0 < red)`;
  renderImageGrid(filters.body, [
    ...matrixImages(f64(layer.nfm), layer.filter, k, 'W^T W'),
    ...matrixImages(f64(layer.agop), layer.filter, k, 'patch-AGOP'),
  ]);
}

/** diag and top eigenvectors of NFM, AGOP (and M) as images, for a first layer whose inputs are an image. */
function drawImages(layer: WireNfaLayer): void {
  // A conv layer's inputs are patches: its filters card shows them.
  const det = layerIndex === 0 && !layer.filter ? detectImageShape(layer.inputNames, view?.imageShape) : null;
  images.card.hidden = !det;
  if (!det) {
    images.body.replaceChildren();
    return;
  }
  const d = layer.shape[1];
  const power = alpha.value === '1' ? 'AGOP' : 'AGOP^1/2';
  const rfm = view?.rfm && view.rfm.d === d ? f64(view.rfm.M) : null;
  const [c, h, w] = det.shape;
  images.h.textContent = `${layer.name}: NFM, ${power}${rfm ? ' and RFM M' : ''} as ${c > 1 ? `${c} × ` : ''}${h} × ${w} images (diag in grey; eigenvectors blue < 0 < red)`;
  renderImageGrid(images.body, [
    ...matrixImages(f64(layer.nfm), det.shape, 2, 'NFM'),
    ...matrixImages(f64(alpha.value === '1' ? layer.agop : layer.sqrtAgop), det.shape, 2, power),
    ...(rfm ? matrixImages(rfm, det.shape, 2, 'M') : []),
  ]);
}

function render(): void {
  if (!view) return;
  drawTabs();
  const layer = view.layers[layerIndex];
  drawMaps(layer);
  drawImages(layer);
  drawCorrelations();
  drawEigen(layer);
  drawFilters(layer);
  document.body.dataset.ready = '1';
}

alpha.addEventListener('change', render);
scale.addEventListener('change', render);
kInput.addEventListener('change', render);
copyJson.addEventListener(
  'click',
  () => view && host.post({ type: 'copy', what: 'NFA report (JSON)', text: view.report }),
);
copyTsv.addEventListener(
  'click',
  () =>
    view &&
    host.post({
      type: 'copy',
      what: 'correlation table (TSV)',
      text: correlationTsv(correlationRows(view.layers, view.rfm)),
    }),
);
onThemeChange(() => {
  theme = readTheme();
  if (showCollapse) collapseTab.draw();
  else render();
});
window.addEventListener('resize', () => {
  nfmMap.map.draw();
  agopMap.map.draw();
  rfmMap.map.draw();
});

function onMessage(m: NfaHostToWebview): void {
  switch (m.type) {
    case 'form':
      form.set(m.form);
      form.element.hidden = false;
      // Results appear below once computed.
      grid.hidden = view === null || showCollapse;
      status.textContent = view ? '' : 'Choose the data and Compute.';
      status.className = 'status';
      break;
    case 'columns':
      form.columns(m);
      break;
    case 'picked':
      form.picked(m);
      break;
    case 'show': {
      view = m.view;
      grid.hidden = false;
      status.className = 'status';
      delete document.body.dataset.failed;
      form.computed();
      title.textContent = view.title;
      info.textContent = `${view.weights} on ${view.data} → ${view.target} · ${view.rows} rows · ${view.activation} · layers in ${view.layerOrder} order${view.minusInit ? ' · NFM minus initial weights' : ''} · ${view.backend} (${view.device})${view.backendNote ? ` · ${view.backendNote}` : ''}`;
      status.textContent = '';
      const f = view.focus ? view.layers.findIndex((l) => l.name === view!.focus) : -1;
      layerIndex = f >= 0 ? f : 0;
      viewTabs.hidden = false;
      collapseTab.set(view.collapse ?? null, view.collapseNote ?? null);
      selectView(showCollapse);
      break;
    }
    case 'progress':
      status.textContent = m.message;
      break;
    case 'failed':
      status.textContent = m.message;
      status.className = 'status error';
      document.body.dataset.failed = '1';
      break;
    case 'persist':
      // What the host needs to compute this view again after a window reload.
      host.setState(m.state);
      title.textContent = m.state.title;
      break;
    default:
      unhandled(m);
  }
}

const host = connect<NfaWebviewToHost, NfaHostToWebview, NfaPanelState>(onMessage);
