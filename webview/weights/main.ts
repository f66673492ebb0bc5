// The weights editor page: the file's tensors in a table (stats fill in as the host computes them),
// a search box, and 2-D tensors as links to the NFA view.
import type {
  WeightsHostToWebview,
  WeightsWebviewToHost,
  WireMetadataEntry,
  WireTensorInfo,
  WireTensorStats,
} from '../../src/protocol/weights';
import { el } from '../shared/dom';
import { connect } from '../shared/vscodeApi';
import { unhandled } from '../../src/protocol/channel';

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n,
    u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

const num = (v: number) =>
  Number.isFinite(v)
    ? Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(3)
      : v.toPrecision(4)
    : String(v);

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'Weights');
const info = el('div', { class: 'final', id: 'info' }, 'Reading…');
const search = el('input', {
  id: 'search',
  type: 'search',
  placeholder: 'Filter by name',
  'aria-label': 'Filter tensors and other entries by name',
});
const controls = el('div', { class: 'controls' });
controls.append(search);
header.append(title, info, controls);
const table = el('table', { id: 'tensors', class: 'tensors' });
const thead = el('thead');
const headRow = el('tr');
for (const h of ['name', 'dtype', 'shape', 'elements', 'size', 'min', 'max', 'mean', 'std'])
  headRow.append(el('th', {}, h));
thead.append(headRow);
const tbody = el('tbody');
table.append(thead, tbody);
const hint = el(
  'p',
  { class: 'status' },
  'Click a 2-D weight to see its neural feature matrix against the network AGOP (NFA view).',
);
// A training checkpoint's other values (epoch, loss, config, optimiser settings): listed, never run.
const metaHeading = el('h3', { id: 'metadata-heading' }, 'Other entries (not tensors)');
const metaTable = el('table', { id: 'metadata', class: 'tensors' });
const metaHead = el('thead');
const metaHeadRow = el('tr');
for (const h of ['name', 'Python type', 'value']) metaHeadRow.append(el('th', {}, h));
metaHead.append(metaHeadRow);
const metaBody = el('tbody');
metaTable.append(metaHead, metaBody);
metaHeading.hidden = metaTable.hidden = true;
app.append(header, hint, table, metaHeading, metaTable);

const rows = new Map<string, HTMLTableRowElement>();

const metaRows = new Map<string, HTMLTableRowElement>();
/** The checkpoint dict holding the network: only its 2-D weights are layers the NFA view can show. */
let modelScope: string | null = null;

function addMetaRow(m: WireMetadataEntry): void {
  const tr = el('tr', { 'data-name': m.name });
  tr.append(el('td', { class: 'name' }, m.name), el('td', {}, m.pyType), el('td', { class: 'value' }, m.value));
  metaBody.append(tr);
  metaRows.set(m.name, tr);
}

function addRow(t: WireTensorInfo): void {
  const tr = el('tr', { 'data-name': t.name });
  const nameCell = el('td', { class: 'name' });
  // 2-D weights are dense layers, 4-D `*.weight` ones Conv2d layers (docs/science.md §6): both open the NFA view.
  const layer = t.shape.length === 2 || (t.shape.length === 4 && /weight$/.test(t.name));
  if (layer && (modelScope === null || t.name.startsWith(`${modelScope}.`))) {
    const a = el('a', { href: '#', title: 'Open the NFA view for this layer' }, t.name);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      host.post({ type: 'openNfa', tensor: t.name });
    });
    nameCell.append(a);
  } else {
    nameCell.textContent = t.name;
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  tr.append(
    nameCell,
    el('td', {}, t.dtype),
    el('td', { class: 'shape' }, `[${t.shape.join(', ')}]`),
    el('td', { class: 'num' }, n.toLocaleString()),
    el('td', { class: 'num' }, bytes(t.byteLength)),
  );
  for (const k of ['min', 'max', 'mean', 'std']) tr.append(el('td', { class: `num stat-${k}` }, '…'));
  tbody.append(tr);
  rows.set(t.name, tr);
}

function setStats(name: string, s: WireTensorStats | null, error: string | null): void {
  const tr = rows.get(name);
  if (!tr) return;
  for (const k of ['min', 'max', 'mean', 'std'] as const) {
    const td = tr.querySelector(`.stat-${k}`)!;
    td.textContent = s ? num(s[k]) : '—';
    if (error) td.setAttribute('title', error);
  }
  if (s && s.nonFinite) tr.title = `${s.nonFinite} NaN/inf entries (excluded from the statistics)`;
  tr.dataset.stats = '1';
}

search.addEventListener('input', () => {
  const q = search.value.trim().toLowerCase();
  for (const [name, tr] of [...rows, ...metaRows]) tr.hidden = q !== '' && !name.toLowerCase().includes(q);
});

function onMessage(m: WeightsHostToWebview): void {
  switch (m.type) {
    case 'tensors':
      title.textContent = m.file;
      info.textContent = `${m.format} · ${m.tensors.length} tensors${m.metadata.length ? ` · ${m.metadata.length} other entries` : ''} · ${bytes(m.sizeBytes)}${m.modelScope ? ` · network: '${m.modelScope}'` : ''}${m.note ? ` · ${m.note}` : ''}`;
      modelScope = m.modelScope;
      tbody.textContent = '';
      rows.clear();
      m.tensors.forEach(addRow);
      metaBody.textContent = '';
      metaRows.clear();
      m.metadata.forEach(addMetaRow);
      metaHeading.hidden = metaTable.hidden = m.metadata.length === 0;
      document.body.dataset.listed = String(m.tensors.length);
      document.body.dataset.metadata = String(m.metadata.length);
      break;
    case 'stats':
      setStats(m.name, m.stats, m.error);
      break;
    case 'failed':
      info.textContent = `Cannot show this file: ${m.message}`;
      info.className = 'error';
      hint.hidden = true;
      table.hidden = true;
      metaHeading.hidden = metaTable.hidden = true;
      break;
    default:
      unhandled(m);
  }
}

const host = connect<WeightsWebviewToHost, WeightsHostToWebview>(onMessage);
