// The Grokking Lab (docs/science.md §4): the form, live charts of train/test accuracy and the two progress
// measures (circulant deviation, AGOP alignment) per iteration, M_t as a heatmap with an iteration
// slider and the discrete-log reordering for mul/div and, when the host places a run here, the run
// itself (core/rfm/grokking on this page's WebGPU or thread, yielding between steps so Stop works).
import { failureOf } from '../../src/protocol/failure';
import type { ChartDataset } from 'chart.js';
import { CpuGramSums, type GramSums } from '../../src/core/rfm/indicator';
import { WebGpuGramSums } from '../../src/core/rfm/indicatorWebgpu';
import { reorderForView } from '../../src/core/rfm/grokking/measures';
import { runGrokking } from '../../src/core/rfm/grokking/run';
import { discreteLogOrder, type ModOp } from '../../src/core/rfm/grokking/tasks';
import type { Reply } from '../../src/protocol/channel';
import { unhandled } from '../../src/protocol/channel';
import {
  toWireGrokIteration,
  type GrokHostToWebview,
  type GrokSettings,
  type GrokWebviewToHost,
  type WireGrokIteration,
} from '../../src/protocol/grokking';
import { ChartSet, baseOptions, seriesColor, themedAxis, type ChartConfiguration } from '../shared/charts';
import { chartCard, el } from '../shared/dom';
import { pageGpuLease, yieldToPage } from '../shared/gpu';
import { Heatmap } from '../shared/heatmap';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';

let theme: Theme = readTheme();
const token = { cancelled: false };

const app = document.getElementById('app')!;
const header = el('header');
header.append(el('h2', {}, 'Grokking Lab'));
const form = el('div', { class: 'form' });
const select = (id: string, label: string, options: [string, string][]) => {
  const s = el('select', { id });
  for (const [v, t] of options) s.append(el('option', { value: v }, t));
  const l = el('label', { for: id }, label);
  l.append(s);
  form.append(l);
  return s;
};
const num = (id: string, label: string, step: string, min: string) => {
  const input = el('input', { id, type: 'number', step, min });
  const l = el('label', { for: id }, label);
  l.append(input);
  form.append(l);
  return input;
};
const op = select('op', 'operation ', [
  ['add', 'a + b mod p'],
  ['sub', 'a − b mod p'],
  ['mul', 'a × b mod p'],
  ['div', 'a ÷ b mod p'],
]);
const p = num('p', 'prime p ', '1', '3');
const trainFrac = num('trainFrac', 'train fraction ', '0.05', '0.05');
const kernel = select('kernel', 'kernel ', [
  ['gaussian', 'Gaussian'],
  ['laplace', 'Laplace'],
  ['quadratic', 'quadratic (xᵀMz)²'],
]);
const bandwidth = num('bandwidth', 'bandwidth L ', '0.1', '0.1');
const iters = num('iters', 'iterations ', '1', '0');
const agopPower = select('agopPower', 'M = AGOP^ ', [
  ['0.5', '½'],
  ['1', '1'],
]);
const centerLabel = el('label', { for: 'centerGrads' }, 'centred gradients ');
const centerGrads = el('input', { id: 'centerGrads', type: 'checkbox' });
centerLabel.append(centerGrads);
form.append(centerLabel);
const seed = num('seed', 'seed ', '1', '0');
const buttons = el('div', { class: 'controls' });
const runBtn = el('button', { id: 'run', type: 'button' }, 'Run');
const stopBtn = el('button', { id: 'stop', type: 'button' }, 'Stop');
stopBtn.disabled = true;
const trainBtn = el('button', { id: 'train-network', type: 'button' }, 'Train the network on this task');
trainBtn.hidden = true;
buttons.append(runBtn, stopBtn, trainBtn);
const status = el(
  'div',
  { id: 'status', class: 'status' },
  'Run RFM on the task: test accuracy stays near chance while the progress measures move, then jumps.',
);
header.append(form, buttons, status);

const CARDS = [
  { id: 'acc', title: 'Train and test accuracy' },
  { id: 'circ', title: 'Circulant deviation of M (log scale; falls as the structure forms)' },
  { id: 'align', title: 'AGOP alignment: with the final M, and with the previous iteration' },
];
const grid = el('main', { class: 'grid' });
const canvases = new Map<string, HTMLCanvasElement>();
for (const c of CARDS) {
  const { card, canvas } = chartCard(c.id, c.title);
  grid.append(card);
  canvases.set(c.id, canvas);
}
const mCard = el('section', { class: 'card', id: 'card-m' });
const mControls = el('div', { class: 'controls' });
const slider = el('input', {
  id: 'iter-slider',
  type: 'range',
  min: '0',
  max: '0',
  value: '0',
  step: '1',
  'aria-label': 'Iteration of M shown',
});
const sliderLabel = el('span', { id: 'iter-label', class: 'status' }, 'iteration –');
const reorderLabel = el('label', { for: 'reorder' }, ' discrete-log order (× ÷) ');
const reorder = el('input', { id: 'reorder', type: 'checkbox' });
reorderLabel.append(reorder);
mControls.append(slider, sliderLabel, reorderLabel);
const mWrap = el('div', { class: 'chartwrap', style: 'position: relative; height: auto' });
const mCanvas = el('canvas', { id: 'heatmap', role: 'img', 'aria-label': 'feature matrix M' });
const tip = el('div', { class: 'tip' });
tip.hidden = true;
mWrap.append(mCanvas, tip);
mCard.append(el('h3', {}, 'Feature matrix M_t (a block | b block)'), mControls, mWrap);
grid.append(mCard);
app.append(header, grid);

const charts = new ChartSet((id) => canvases.get(id)!);
const heatmap = new Heatmap(mCanvas, tip, () => theme);
const color = (i: number) => seriesColor(theme, i);

/** The run being shown: its settings, iterations so far and (at the end) rho(M_t, M_T). */
let shown: { s: GrokSettings; its: WireGrokIteration[]; final: number[] | null } | null = null;

function settings(): GrokSettings {
  const n = (e: HTMLInputElement) => Number(e.value);
  return {
    op: op.value as ModOp,
    p: n(p),
    trainFrac: n(trainFrac),
    kernel: kernel.value as GrokSettings['kernel'],
    bandwidth: n(bandwidth),
    iters: n(iters),
    agopPower: agopPower.value === '1' ? 1 : 0.5,
    centerGrads: centerGrads.checked,
    seed: n(seed),
  };
}

function applySettings(s: GrokSettings): void {
  op.value = s.op;
  p.value = String(s.p);
  trainFrac.value = String(s.trainFrac);
  kernel.value = s.kernel;
  bandwidth.value = String(s.bandwidth);
  iters.value = String(s.iters);
  agopPower.value = String(s.agopPower);
  centerGrads.checked = s.centerGrads;
  seed.value = String(s.seed);
  syncForm();
}

function syncForm(): void {
  bandwidth.disabled = kernel.value === 'quadratic';
  const mulDiv = (shown?.s.op ?? op.value) === 'mul' || (shown?.s.op ?? op.value) === 'div';
  reorder.disabled = !mulDiv;
}
op.addEventListener('change', syncForm);
kernel.addEventListener('change', syncForm);

function line(label: string, ys: (number | null)[], i: number, dash = false): ChartDataset {
  return {
    label,
    data: ys.map((y, x) => ({ x, y: y === null || !Number.isFinite(y) ? NaN : y })),
    borderColor: color(i),
    backgroundColor: color(i),
    borderWidth: 1.5,
    pointRadius: 2,
    ...(dash ? { borderDash: [5, 4] } : {}),
  } as ChartDataset;
}

function setChart(id: string, datasets: ChartDataset[], y: string, logY = false, yRange?: [number, number]): void {
  const options = baseOptions(theme, 'iteration', y, logY) as Record<string, unknown> & {
    scales: Record<string, Record<string, unknown>>;
  };
  const yAxis = { ...options.scales.y, ...(yRange ? { min: yRange[0], max: yRange[1] } : {}) };
  charts.set(id, {
    type: 'line',
    data: { datasets },
    options: { ...options, parsing: false, scales: { x: themedAxis(theme, 'iteration'), y: yAxis } },
  } as ChartConfiguration);
}

function drawCharts(): void {
  if (!shown) return;
  const its = shown.its;
  setChart(
    'acc',
    [
      line(
        'train accuracy',
        its.map((it) => it.trainAcc),
        0,
      ),
      line(
        'test accuracy',
        its.map((it) => it.testAcc),
        1,
      ),
    ],
    'accuracy',
    false,
    [0, 1],
  );
  setChart(
    'circ',
    [
      line(
        'circulant deviation',
        its.map((it) => it.circulantDeviation),
        2,
      ),
    ],
    'D',
    true,
  );
  const align = [
    line(
      'ρ(M_t, M_{t−1})',
      its.map((it) => it.alignmentPrev),
      3,
    ),
  ];
  if (shown.final) align.unshift(line('ρ(M_t, M_T)', shown.final, 4, true));
  setChart('align', align, 'alignment');
}

function names(pp: number, order: ArrayLike<number>): string[] {
  return [...Array.from(order, (v) => `a${v}`), ...Array.from(order, (v) => `b${v}`)];
}

function drawHeatmap(): void {
  if (!shown || !shown.its.length) {
    heatmap.set(null);
    return;
  }
  const t = Math.min(Number(slider.value), shown.its.length - 1);
  const it = shown.its[t];
  const pp = shown.s.p;
  const M = new Float64Array(it.M);
  const logOrder = reorder.checked && !reorder.disabled;
  const order = logOrder ? discreteLogOrder(pp) : Int32Array.from({ length: pp }, (_, i) => i);
  // The diagonal blocks dominate |M|; the scale follows the off-diagonal block so its structure shows.
  let scale = 0;
  const d = 2 * pp;
  for (let i = pp; i < d; i++) for (let j = 0; j < pp; j++) scale = Math.max(scale, Math.abs(M[i * d + j]));
  heatmap.set({
    values: logOrder ? reorderForView(M, pp, shown.s.op) : M,
    names: names(pp, order),
    scale: scale || undefined,
    label: `M_${t}`,
  });
  sliderLabel.textContent = `iteration ${t}: test acc ${it.testAcc.toFixed(3)}, D ${it.circulantDeviation?.toExponential(2) ?? '–'}`;
}
slider.addEventListener('input', drawHeatmap);
reorder.addEventListener('change', drawHeatmap);

function onIteration(it: WireGrokIteration): void {
  if (!shown) return;
  shown.its.push(it);
  slider.max = String(shown.its.length - 1);
  slider.value = slider.max;
  drawCharts();
  drawHeatmap();
  status.textContent = `${describe(shown.s)} · iteration ${it.iter}/${shown.s.iters}: train ${it.trainAcc.toFixed(3)}, test ${it.testAcc.toFixed(3)}${it.jitter ? `, jitter ${it.jitter.toExponential(1)}` : ''}`;
}

const describe = (s: GrokSettings) =>
  `${s.op} mod ${s.p}, train fraction ${s.trainFrac}, ${s.kernel}${s.kernel === 'quadratic' ? '' : ` L = ${s.bandwidth}`}`;

function setBusy(busy: boolean): void {
  runBtn.disabled = busy;
  stopBtn.disabled = !busy;
}

function start(s: GrokSettings): void {
  shown = { s, its: [], final: null };
  slider.max = '0';
  slider.value = '0';
  syncForm();
  drawCharts();
  drawHeatmap();
  status.className = 'status';
  status.textContent = `${describe(s)} · starting…`;
  setBusy(true);
}

async function runHere(
  placement: 'page-gpu' | 'page-cpu',
  s: GrokSettings,
): Promise<Extract<GrokWebviewToHost, { type: 'grokDone' }>> {
  token.cancelled = false;
  const gram: GramSums = placement === 'page-gpu' ? await WebGpuGramSums.leased(pageGpuLease()) : new CpuGramSums();
  const t0 = performance.now();
  try {
    const r = await runGrokking(s, {
      gram,
      cancel: token,
      yieldNow: yieldToPage,
      onIteration: (it, M) => onIteration(toWireGrokIteration(it, M)),
    });
    return {
      type: 'grokDone',
      agopAlignment: r.iterations.map((it) => it.agopAlignment),
      backend: gram.name,
      device: gram.device,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    gram.dispose();
  }
}

async function onHostMessage(m: GrokHostToWebview, reply: Reply<GrokWebviewToHost> | undefined): Promise<void> {
  switch (m.type) {
    case 'grokInit':
      applySettings(m.settings);
      trainBtn.hidden = !m.trainCommand;
      return;
    case 'grokRun': {
      const answer = await runHere(m.placement, m.settings).catch((e: unknown): GrokWebviewToHost => ({
        type: 'grokFailed',
        failure: failureOf(e),
      }));
      reply?.(answer);
      return;
    }
    case 'grokStarted':
      applySettings(m.settings);
      start(m.settings);
      return;
    case 'grokIteration':
      onIteration(m.iteration);
      return;
    case 'grokFinished':
      if (shown) shown.final = m.agopAlignment;
      drawCharts();
      status.textContent = `${shown ? describe(shown.s) : ''} · done in ${m.seconds.toFixed(1)} s on ${m.info.reason} (${m.info.device})`;
      setBusy(false);
      return;
    case 'grokStopped':
      status.className = 'status';
      status.textContent = m.cancelled ? 'Stopped.' : `Failed: ${m.message}`;
      setBusy(false);
      return;
    case 'grokCancel':
      token.cancelled = true;
      return;
    default:
      unhandled(m);
  }
}

const link = connect<GrokWebviewToHost, GrokHostToWebview>(onHostMessage);

runBtn.addEventListener('click', () => link.post({ type: 'grokStart', settings: settings() }));
stopBtn.addEventListener('click', () => {
  token.cancelled = true;
  link.post({ type: 'grokStop' });
});
trainBtn.addEventListener('click', () => link.post({ type: 'grokTrainNetwork', settings: settings() }));
onThemeChange(() => {
  theme = readTheme();
  drawCharts();
  drawHeatmap();
});
