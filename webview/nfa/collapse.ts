// The collapse view: Deep RFM's NC1 (log) and NC2 per layer with and without the AGOP step in one chart
// each, or NC1 per hidden layer over a series of checkpoints; the numbers below as a table. Curves grow
// as layers finish.
import { unhandled } from '../../src/protocol/channel';
import type {
  CollapseHostToWebview,
  CollapsePanelState,
  CollapseView,
  CollapseWebviewToHost,
} from '../../src/protocol/collapse';
import { ChartSet } from '../shared/charts';
import { chartCard, el } from '../shared/dom';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';
import { lineChart, ncLines, numbersTable, type Line } from './collapseCharts';

let theme: Theme = readTheme();
let view: CollapseView | null = null;

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'Neural collapse');
const info = el('div', { class: 'final', id: 'info' }, '');
const status = el('div', { class: 'status', id: 'status', role: 'status' }, 'Computing…');
const copyJson = el('button', { id: 'copy-json', class: 'secondary' }, 'Copy as JSON');
copyJson.disabled = true;
header.append(title, info, status, copyJson);
const grid = el('main', { class: 'grid' });
const nc1 = chartCard('nc1', 'NC1 = tr Σ_W / tr Σ_B per layer (log scale)');
const nc2 = chartCard('nc2', 'NC2: distance of the class-mean Gram from the simplex ETF');
const numbers = el('section', { class: 'card wide', id: 'card-numbers' });
grid.append(nc1.card, nc2.card, numbers);
app.append(header, grid);
const charts = new ChartSet<'nc1' | 'nc2'>((id) => (id === 'nc1' ? nc1.canvas : nc2.canvas));

function draw(v: CollapseView, final: boolean): void {
  let x: string[], xTitle: string, one: Line[], two: Line[];
  if (v.kind === 'deepRfm') {
    const n = Math.max(v.withAgop.length, v.withoutAgop.length);
    x = Array.from({ length: n }, (_, i) => (i === 0 ? 'input' : String(i)));
    xTitle = 'layer';
    const series = [
      { label: 'Deep RFM (AGOP step)', values: v.withAgop, colour: 0 },
      { label: 'control (random features, no AGOP)', values: v.withoutAgop, colour: 1, dashed: true },
    ];
    one = ncLines(series, 'nc1');
    two = ncLines(series, 'nc2');
    info.textContent = `${v.data} → ${v.target} · ${v.rows} rows · ${v.classes} classes · depth ${v.depth}, width ${v.width}, L = ${v.bandwidth}, seed ${v.seed}${v.device ? ` · ${v.device}` : ''}`;
  } else {
    x = v.checkpoints.map((c) => c.replace(/^.*\//, ''));
    xTitle = 'checkpoint';
    const col = (m: number[][], j: number) => m.map((r) => r[j]);
    one = v.layers.flatMap((name, j) => [
      { label: `${name} (train)`, values: col(v.nc1, j), colour: j },
      ...(v.testNc1 ? [{ label: `${name} (held-out)`, values: col(v.testNc1, j), colour: j, dashed: true }] : []),
    ]);
    two = v.layers.map((name, j) => ({ label: `${name} (train)`, values: col(v.nc2, j), colour: j }));
    nc1.card.querySelector('h3')!.textContent = 'NC1 per hidden layer over training (log scale)';
    nc2.card.querySelector('h3')!.textContent = 'NC2 per hidden layer over training';
    info.textContent = `${v.data} → ${v.target} · ${v.checkpoints.length} checkpoints in name order${v.heldOut ? ` · held-out ${v.heldOut}` : ''}${v.device ? ` · ${v.device}` : ''}`;
  }
  title.textContent = v.title;
  charts.set('nc1', lineChart(theme, x, one, xTitle, 'NC1', true));
  charts.set('nc2', lineChart(theme, x, two, xTitle, 'NC2', false));
  numbers.replaceChildren(
    el('h3', {}, 'Numbers'),
    numbersTable('nc-table', 'NC1 and NC2 per ' + xTitle, xTitle, x, [
      ...one.map((l) => ({ ...l, label: `NC1 ${l.label}` })),
      ...two.map((l) => ({ ...l, label: `NC2 ${l.label}` })),
    ]),
  );
  if (final) {
    copyJson.disabled = false;
    document.body.dataset.ready = '1';
  }
}

function onMessage(m: CollapseHostToWebview): void {
  switch (m.type) {
    case 'progress':
      status.textContent = m.message;
      if (m.partial) draw(m.partial, false);
      break;
    case 'show':
      view = m.view;
      status.textContent = '';
      status.classList.remove('error');
      delete document.body.dataset.failed;
      draw(view, true);
      break;
    case 'failed':
      status.textContent = m.message;
      status.classList.add('error');
      document.body.dataset.failed = '1';
      break;
    case 'persist':
      host.setState(m.state);
      title.textContent = m.state.title;
      break;
    default:
      unhandled(m);
  }
}

copyJson.addEventListener(
  'click',
  () => view && host.post({ type: 'copy', what: 'neural-collapse report (JSON)', text: view.report }),
);
onThemeChange(() => {
  theme = readTheme();
  if (view) draw(view, true);
});

const host = connect<CollapseWebviewToHost, CollapseHostToWebview, CollapsePanelState>(onMessage);
