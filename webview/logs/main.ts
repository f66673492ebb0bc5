// The live loss-spike view: a training log's loss curve (log scale, smoothing), its spikes marked and
// listed; the host posts new points in batches and this page only appends.
import type { ScatterDataPoint } from 'chart.js';
import type {
  LogColumnState,
  LogsHostToWebview,
  LogsPanelState,
  LogsWebviewToHost,
  WireSpike,
} from '../../src/protocol/logs';
import { ChartSet, baseOptions, themedAxis, type ChartConfiguration } from '../shared/charts';
import { el } from '../shared/dom';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';
import { thinMinMax } from './thin';

/** Points drawn per curve: min and max of each bucket, so a one-point spike survives the thinning. */
const BUCKETS = 1200;

class Growable {
  data = new Float64Array(4096);
  length = 0;
  append(src: Float64Array): void {
    if (this.length + src.length > this.data.length) {
      let cap = this.data.length;
      while (cap < this.length + src.length) cap *= 2;
      const next = new Float64Array(cap);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(src, this.length);
    this.length += src.length;
  }
  clear(): void {
    this.length = 0;
  }
  get view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

const steps = new Growable(),
  values = new Growable(),
  smoothed = new Growable();
let spikes: WireSpike[] = [];
let openSpike: WireSpike | null = null;
let columns: LogColumnState = { column: null, candidates: [], all: [] };
let smoothing = 0.6;
let logScale = true;
let zoom: { min: number; max: number } | null = null;
let emaState = { last: 0, count: 0 };
let theme: Theme = readTheme();
let requested = '';
let infoSeen = false;

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'Loss spikes');
const status = el('div', { id: 'status', class: 'status' }, 'Reading the log…');
const controls = el('div', { class: 'controls' });
const columnLabel = el('label', { for: 'column' }, 'Loss column: ');
const columnSelect = el('select', { id: 'column' });
const logLabel = el('label', { for: 'logscale' }, ' log scale');
const logBox = el('input', { id: 'logscale', type: 'checkbox' });
const smoothLabel = el('label', { for: 'smoothing' }, ' smoothing ');
const smoothInput = el('input', {
  id: 'smoothing',
  type: 'range',
  min: '0',
  max: '0.99',
  step: '0.01',
  value: String(smoothing),
});
const smoothValue = el('span', { id: 'smoothing-value' }, smoothing.toFixed(2));
const resetZoom = el('button', { id: 'reset-zoom', type: 'button' }, 'Show all');
controls.append(columnLabel, columnSelect, logBox, logLabel, smoothLabel, smoothInput, smoothValue, resetZoom);
header.append(title, status, controls);

const chartCard = el('section', { class: 'card wide' });
const chartWrap = el('div', { class: 'chartwrap tall' });
const canvas = el('canvas', { id: 'loss', role: 'img', 'aria-label': 'Loss over steps with spikes marked' });
chartWrap.append(canvas);
chartCard.append(el('h3', {}, 'Loss'), chartWrap);
const listCard = el('section', { class: 'card wide' });
const listTitle = el('h3', {}, 'Spikes');
const table = el('table', { id: 'spikes', class: 'spikes' });
listCard.append(listTitle, el('div', { class: 'hint' }, 'Click a spike to zoom to it.'), table);
const problemsBox = el('details', { id: 'problems', class: 'card wide' });
const problemsSummary = el('summary', {}, 'Problems');
const problemsList = el('ul');
problemsBox.append(problemsSummary, problemsList);
problemsBox.hidden = true;
const grid = el('main', { class: 'grid' });
grid.append(chartCard, listCard, problemsBox);
app.append(header, grid);

function ema(from: number): void {
  // TensorBoard's debiased exponential moving average (starts at 0, divided by 1 - a^k), skipping non-finite points.
  const v = values.data;
  const out = new Float64Array(values.length - from);
  let { last, count } = emaState;
  for (let i = from; i < values.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      out[i - from] = NaN;
      continue;
    }
    last = smoothing * last + (1 - smoothing) * x;
    count++;
    const debias = smoothing === 0 ? 1 : 1 - Math.pow(smoothing, count);
    out[i - from] = last / debias;
  }
  emaState = { last, count };
  smoothed.append(out);
}

function resmooth(): void {
  smoothed.clear();
  emaState = { last: 0, count: 0 };
  ema(0);
}

/** Index range of steps within [min, max] (steps are nearly always increasing; binary search then). */
function indexRange(): [number, number] {
  const n = steps.length;
  if (!zoom || n === 0) return [0, n];
  const s = steps.data;
  const lower = (x: number) => {
    let lo = 0,
      hi = n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (s[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  return [Math.max(0, lower(zoom.min) - 1), Math.min(n, lower(zoom.max) + 2)];
}

function thin(src: Float64Array, a: number, b: number): ScatterDataPoint[] {
  return thinMinMax(steps.data, src, a, b, BUCKETS, (y) => Number.isFinite(y) && (!logScale || y > 0));
}

const charts = new ChartSet<'loss'>(() => canvas);

function makeChart(): void {
  const options = baseOptions(theme, 'step', columns.column ?? 'loss', logScale) as Record<string, unknown> & {
    scales: Record<string, unknown>;
  };
  charts.set('loss', {
    type: 'line',
    data: { datasets: [] },
    options: {
      ...options,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: { ...options.scales, x: themedAxis(theme, 'step') },
    },
  } as ChartConfiguration);
}

function spikeLabel(s: WireSpike): string {
  return s.heightRatio === null ? 'non-finite' : `x${s.heightRatio.toFixed(2)}`;
}

function draw(): void {
  if (!charts.get('loss')) makeChart();
  const c = charts.get('loss')!;
  const [a, b] = indexRange();
  const raw = thin(values.data, a, b);
  const smooth = smoothing > 0 ? thin(smoothed.data, a, b) : [];
  let top = 0;
  for (const p of raw) {
    const y = p.y as number;
    if (Number.isFinite(y) && y > top) top = y;
  }
  const marks = (list: WireSpike[]) =>
    list
      .filter((s) => !zoom || (s.peak >= zoom.min && s.peak <= zoom.max))
      .map((s) => ({ x: s.peak, y: s.peakValue ?? top }));
  const faded = smoothing > 0 ? theme.seriesFaded : theme.series[0];
  c.data.datasets = [
    {
      label: columns.column ?? 'loss',
      data: raw,
      borderColor: faded,
      backgroundColor: faded,
      borderWidth: 1,
      pointRadius: 0,
      spanGaps: false,
    },
    ...(smoothing > 0
      ? [
          {
            label: `smoothed (${smoothing.toFixed(2)})`,
            data: smooth,
            borderColor: theme.series[0],
            backgroundColor: theme.series[0],
            borderWidth: 2,
            pointRadius: 0,
            spanGaps: true,
          },
        ]
      : []),
    {
      label: `spikes (${spikes.length})`,
      data: marks(spikes),
      showLine: false,
      pointRadius: 6,
      pointStyle: 'triangle',
      borderColor: theme.series[4],
      backgroundColor: theme.series[4],
    },
    ...(openSpike
      ? [
          {
            label: 'spike in progress',
            data: marks([openSpike]),
            showLine: false,
            pointRadius: 6,
            pointStyle: 'rectRot',
            borderColor: theme.series[5],
            backgroundColor: theme.series[5],
          },
        ]
      : []),
  ];
  const x = c.options.scales!.x!,
    y = c.options.scales!.y!;
  x.min = zoom?.min;
  x.max = zoom?.max;
  (y as { type: string }).type = logScale ? 'logarithmic' : 'linear';
  c.update('none');
  canvas.dataset.points = String(steps.length);
}

function zoomTo(start: number, end: number): void {
  const pad = Math.max(10, (end - start) * 2);
  zoom = { min: start - pad, max: end + pad };
  draw();
}

function drawList(): void {
  listTitle.textContent = `Spikes (${spikes.length}${openSpike ? ', 1 in progress' : ''})`;
  table.replaceChildren();
  const head = el('tr');
  for (const h of ['start', 'peak', 'end', 'height', 'width', 'recovered']) head.append(el('th', {}, h));
  table.append(head);
  const rows = openSpike ? [...spikes, openSpike] : spikes;
  // Newest first: the one that just happened is what a watcher looks for.
  for (let i = rows.length - 1; i >= 0 && rows.length - i <= 500; i--) {
    const s = rows[i];
    const tr = el('tr', { class: s === openSpike ? 'spike open' : 'spike', tabindex: '0' });
    for (const v of [
      s.start,
      s.peak,
      s.end,
      spikeLabel(s),
      s.width,
      s === openSpike ? 'in progress' : s.recovered ? 'yes' : 'no',
    ])
      tr.append(el('td', {}, String(v)));
    const go = () => zoomTo(s.start, s.end);
    tr.addEventListener('click', go);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    table.append(tr);
  }
}

function drawColumns(): void {
  const want = [...columns.candidates, ...columns.all.filter((c) => !columns.candidates.includes(c))];
  const current = Array.from(columnSelect.options, (o) => o.value);
  if (
    want.join('\n') !== current.filter((v) => v !== '').join('\n') ||
    (columns.column === null) !== current.includes('')
  ) {
    columnSelect.replaceChildren();
    if (columns.column === null)
      columnSelect.append(el('option', { value: '' }, want.length ? 'choose the loss column…' : '(no columns yet)'));
    for (const c of want)
      columnSelect.append(
        el('option', { value: c }, columns.candidates.includes(c) && columns.column === null ? `${c} (likely)` : c),
      );
  }
  columnSelect.value = columns.column ?? '';
  columnSelect.classList.toggle('attention', columns.column === null && want.length > 0);
}

let drawPending = false;
function scheduleDraw(): void {
  if (drawPending) return;
  drawPending = true;
  setTimeout(() => {
    drawPending = false;
    draw();
    drawList();
  }, 0);
}

function onHostMessage(m: LogsHostToWebview): void {
  try {
    if (m.type === 'logInfo') {
      title.textContent = m.title;
      requested = m.requested;
      link.setState({ requested, column: columns.column });
      // Settings give the first look; later infos (a newer run followed) keep what the user set.
      if (infoSeen) return;
      infoSeen = true;
      logScale = m.logScale;
      logBox.checked = logScale;
      smoothing = m.smoothing;
      smoothInput.value = String(smoothing);
      smoothValue.textContent = smoothing.toFixed(2);
      makeChart();
      return;
    }
    if (m.type === 'logZoom') {
      zoomTo(m.start, m.end);
      return;
    }
    if (m.reset) {
      steps.clear();
      values.clear();
      smoothed.clear();
      emaState = { last: 0, count: 0 };
      spikes = [];
      zoom = null;
    }
    const from = values.length;
    steps.append(new Float64Array(m.steps));
    values.append(new Float64Array(m.values));
    ema(from);
    spikes.push(...m.spikes);
    openSpike = m.openSpike;
    const columnChanged = columns.column !== m.columns.column;
    columns = m.columns;
    status.textContent = m.status;
    if (m.problems.length) {
      problemsBox.hidden = false;
      for (const p of m.problems) problemsList.append(el('li', {}, p));
      problemsSummary.textContent = `Problems (${problemsList.children.length}; unreadable records were skipped)`;
    }
    drawColumns();
    if (columnChanged) {
      makeChart();
      if (requested) link.setState({ requested, column: columns.column });
    }
    scheduleDraw();
    link.post({ type: 'logShown', points: values.length, spikes: spikes.length });
  } catch (e) {
    link.log('error', e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
}

const link = connect<LogsWebviewToHost, LogsHostToWebview, LogsPanelState>(onHostMessage);

columnSelect.addEventListener('change', () => {
  if (columnSelect.value) link.post({ type: 'pickColumn', column: columnSelect.value });
});
logBox.addEventListener('change', () => {
  logScale = logBox.checked;
  makeChart();
  draw();
});
smoothInput.addEventListener('input', () => {
  smoothing = Number(smoothInput.value);
  smoothValue.textContent = smoothing.toFixed(2);
  resmooth();
  draw();
});
resetZoom.addEventListener('click', () => {
  zoom = null;
  draw();
});
onThemeChange(() => {
  theme = readTheme();
  makeChart();
  draw();
});
logBox.checked = logScale;
