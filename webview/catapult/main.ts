// The catapult lab (docs/science.md §3): the form, the charts (loss with catapults, lambda_max against
// 2/eta, AGOP alignment, the lr- and batch-size sweeps) and, when the host places a run here, the
// training itself (core/catapult runLab on this page's WebGPU or thread, yielding between steps so the
// charts update live and Stop works). Runs the host computes arrive as steps and an outcome to draw.
import { failureOf } from '../../src/protocol/failure';
import type { ChartDataset } from 'chart.js';
import {
  CpuCatapultBackend,
  DEFAULT_RELU_LAB,
  labTaskFromDataset,
  runLab,
  yieldingCatapult,
  type CatapultBackend,
  type LabSweep,
  type LabTask,
} from '../../src/core/catapult/index';
import { WebGpuCatapultBackend } from '../../src/core/catapult/webgpu';
import { fromWireDataset } from '../../src/protocol/wire';
import {
  toWireLabOutcome,
  toWireLabStep,
  type LabHostToWebview,
  type LabRunInfo,
  type LabSettings,
  type LabWebviewToHost,
  type WireLabOutcome,
  type WireLabStep,
} from '../../src/protocol/catapult';
import { unhandled } from '../../src/protocol/channel';
import type { Reply } from '../../src/protocol/channel';
import { ChartSet, baseOptions, seriesColor, themedAxis, type ChartConfiguration } from '../shared/charts';
import { chartCard, el } from '../shared/dom';
import { pageGpuLease } from '../shared/gpu';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';

let theme: Theme = readTheme();
/** Stops the run computing on this page. */
const token = { cancelled: false };

/**
 * Gives the page a turn (drawing, the Stop button) after about a frame's worth of compute. A timeout
 * per session call would cost more than the small runs' compute (nested timeouts are clamped to 4 ms).
 */
let lastYield = performance.now();
async function frameYield(): Promise<void> {
  if (performance.now() - lastYield < 30) return;
  await new Promise((r) => setTimeout(r, 0));
  lastYield = performance.now();
}

const app = document.getElementById('app')!;
const header = el('header');
header.append(el('h2', {}, 'Catapult Lab'));
const form = el('div', { class: 'form' });
const model = el('select', { id: 'model' });
model.append(
  el('option', { value: 'relu' }, 'two-layer ReLU network'),
  el('option', { value: 'linear' }, 'linear toy model (exact two-layer recursion)'),
);
const num = (id: string, label: string, value: number, step = '1', min = '0') => {
  const input = el('input', { id, type: 'number', value: String(value), step, min });
  const l = el('label', { for: id }, label);
  l.append(input);
  form.append(l);
  return input;
};
const modelLabel = el('label', { for: 'model' }, 'model ');
modelLabel.append(model);
form.append(modelLabel);
const width = num('width', 'width m ', 256, '1', '1');
const lrFactor = num('lrFactor', 'lr factor (eta = f / lambda0) ', 3, '0.1', '0.01');
const steps = num('steps', 'steps ', 300, '1', '1');
const optimizer = el('select', { id: 'optimizer' });
optimizer.append(el('option', { value: 'gd' }, 'GD (full batch)'), el('option', { value: 'sgd' }, 'SGD'));
const optimizerLabel = el('label', { for: 'optimizer' }, 'optimizer ');
optimizerLabel.append(optimizer);
form.append(optimizerLabel);
const batch = num('batch', 'batch ', 32, '1', '1');
/** A batch this large is every row: gradient descent. */
const FULL_BATCH = Number.MAX_SAFE_INTEGER;
const syncOptimizer = () => {
  batch.disabled = optimizer.value === 'gd';
};
optimizer.addEventListener('change', syncOptimizer);
const seed = num('seed', 'seed ', 0, '1', '0');
const buttons = el('div', { class: 'controls' });
const runBtn = el('button', { id: 'run', type: 'button' }, 'Train');
const lrBtn = el('button', { id: 'sweep-lr', type: 'button' }, 'Learning-rate sweep');
const batchBtn = el('button', { id: 'sweep-batch', type: 'button' }, 'Batch-size sweep');
const stopBtn = el('button', { id: 'stop', type: 'button' }, 'Stop');
stopBtn.disabled = true;
const dataBtn = el('button', { id: 'pick-data', type: 'button' }, 'Use a dataset…');
const synthBtn = el('button', { id: 'synthetic', type: 'button' }, 'Synthetic task');
const SYNTHETIC = 'data: synthetic low-rank task y = d x0 x1 (target AGOP known)';
const dataLine = el('span', { id: 'data', class: 'status' }, SYNTHETIC);
buttons.append(runBtn, lrBtn, batchBtn, stopBtn, dataBtn, synthBtn, dataLine);
/** The user's table, when chosen; the ReLU runs train on it (its target AGOP is unknown: no alignment). */
let userTask: LabTask | undefined;
const status = el(
  'div',
  { id: 'status', class: 'status' },
  'Set the parameters and train. eta is in units of 1/lambda0; the lazy/catapult edge is at factor 2.',
);
header.append(form, buttons, status);

const CARDS = [
  { id: 'loss', title: 'Training loss (catapults marked)' },
  { id: 'lambda', title: 'Top NTK eigenvalue lambda_max against 2/eta' },
  { id: 'align', title: 'AGOP alignment cos(G_net, G*)' },
  { id: 'lrsweep', title: 'Phase picture: learning-rate sweep (eta in units of 1/lambda0, edge at 2)' },
  { id: 'batchsweep', title: 'Catapults per run against batch size' },
];
const grid = el('main', { class: 'grid' });
const canvases = new Map<string, HTMLCanvasElement>();
for (const c of CARDS) {
  const { card, canvas } = chartCard(c.id, c.title);
  grid.append(card);
  canvases.set(c.id, canvas);
}
app.append(header, grid);

const charts = new ChartSet((id) => canvases.get(id)!);
/** The model (and data) the charts show; switching either clears them rather than leave another model's curves. */
let drawnFor: string | null = null;
const chartKey = (m: string) => `${m}|${userTask ? dataLine.textContent : 'synthetic'}`;
function clearCharts(): void {
  charts.destroy();
  for (const c of canvases.values()) {
    delete c.dataset.ready;
    c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
  }
  drawnFor = null;
}
function chartsFor(m: string): void {
  if (drawnFor !== null && drawnFor !== chartKey(m)) clearCharts();
  drawnFor = chartKey(m);
}
model.addEventListener('change', () => {
  if (drawnFor !== null && drawnFor !== chartKey(model.value)) {
    clearCharts();
    status.className = 'status';
    status.textContent = `Model changed to the ${model.value === 'linear' ? 'linear toy' : 'ReLU network'}: train to draw its charts.`;
  }
});
function setChart(
  id: string,
  datasets: ChartDataset[],
  x: string,
  y: string,
  logY = false,
  type: 'line' | 'bar' = 'line',
  labels?: string[],
): void {
  const options = baseOptions(theme, x, y, logY) as Record<string, unknown> & { scales: Record<string, unknown> };
  charts.set(id, {
    type,
    data: labels ? { labels, datasets } : { datasets },
    // Points carry their own x (steps, eta): a linear x axis, no parsing.
    options: labels ? options : { ...options, parsing: false, scales: { ...options.scales, x: themedAxis(theme, x) } },
  } as ChartConfiguration);
}
const color = (i: number) => seriesColor(theme, i);
const pts = (ys: ArrayLike<number>, xs?: ArrayLike<number>) =>
  Array.from({ length: ys.length }, (_, i) => ({
    x: xs ? xs[i] : i,
    y: Number.isFinite(ys[i]) && ys[i] > 0 ? ys[i] : NaN,
  }));

function settings(): LabSettings {
  const n = (e: HTMLInputElement, lo: number) => Math.max(lo, Number(e.value) || lo);
  return {
    model: model.value === 'linear' ? 'linear' : 'relu',
    width: Math.round(n(width, 1)),
    lrFactor: n(lrFactor, 0.01),
    steps: Math.round(n(steps, 1)),
    batch: optimizer.value === 'gd' ? FULL_BATCH : Math.round(n(batch, 1)),
    seed: Math.round(Number(seed.value) || 0),
  };
}

function applySettings(s: LabSettings): void {
  model.value = s.model;
  width.value = String(s.width);
  lrFactor.value = String(s.lrFactor);
  steps.value = String(s.steps);
  seed.value = String(s.seed);
  optimizer.value = s.batch >= FULL_BATCH ? 'gd' : 'sgd';
  if (s.batch < FULL_BATCH) batch.value = String(s.batch);
  syncOptimizer();
}

function drawLoss(losses: ArrayLike<number>, cats: readonly { peak: number }[]): void {
  setChart(
    'loss',
    [
      {
        label: 'loss',
        data: pts(losses),
        borderColor: color(0),
        backgroundColor: color(0),
        borderWidth: 1.5,
        pointRadius: 0,
      } as ChartDataset,
      {
        label: `catapults (${cats.length})`,
        data: cats.map((c) => ({ x: c.peak, y: losses[c.peak] })),
        showLine: false,
        pointRadius: 6,
        pointStyle: 'triangle',
        borderColor: color(4),
        backgroundColor: color(4),
      } as ChartDataset,
    ],
    'step',
    'loss',
    true,
  );
}

function drawLambda(stepsAt: ArrayLike<number>, lambdas: ArrayLike<number>, edge: number, last: number): void {
  setChart(
    'lambda',
    [
      {
        label: 'lambda_max',
        data: pts(lambdas, stepsAt),
        borderColor: color(1),
        backgroundColor: color(1),
        pointRadius: lambdas.length < 60 ? 2 : 0,
      } as ChartDataset,
      {
        label: '2 / eta',
        data: [
          { x: 0, y: edge },
          { x: last, y: edge },
        ],
        borderColor: color(4),
        borderDash: [6, 4],
        pointRadius: 0,
      } as ChartDataset,
    ],
    'step',
    'lambda_max',
    true,
  );
}

/** The live loss chart of the run in progress (computed here or on the host). */
let live = { losses: [] as number[], lastDraw: 0 };
function onStep(p: WireLabStep, of: number): void {
  live.losses.push(p.loss ?? NaN);
  if (performance.now() - live.lastDraw > 250) {
    live.lastDraw = performance.now();
    drawLoss(live.losses, []);
    status.textContent = `training: step ${p.step} of ${of}, loss ${p.loss === null ? 'non-finite' : p.loss.toExponential(3)}${p.lambda !== undefined ? `, lambda_max ${p.lambda.toPrecision(4)}` : ''}`;
  }
}

const PHASES = ['lazy', 'catapult', 'divergent'] as const;

/** Draws a finished run or sweep, whichever surface computed it. */
function show(s: LabSettings, o: WireLabOutcome): void {
  chartsFor(s.model);
  status.className = 'status';
  if (o.kind === 'run') {
    const r = o.run;
    const losses = new Float64Array(r.losses);
    const lambdas = new Float64Array(r.lambdas);
    const lambdaSteps = new Float64Array(r.lambdaSteps);
    const alignments = r.alignments ? new Float64Array(r.alignments) : null;
    drawLoss(losses, r.catapults);
    drawLambda(lambdaSteps, lambdas, r.edge, losses.length - 1);
    setChart(
      'align',
      alignments
        ? [
            {
              label: 'cos(G_net, G*)',
              data: Array.from(alignments, (y, i) => ({ x: lambdaSteps[i], y })),
              borderColor: color(2),
              backgroundColor: color(2),
              pointRadius: 2,
            } as ChartDataset,
          ]
        : [],
      'step',
      'cosine',
    );
    const finalLambda = lambdas[lambdas.length - 1].toPrecision(4);
    if (r.model === 'linear') {
      status.textContent = `linear toy: lambda0 ${r.lambda0.toPrecision(4)}, eta ${r.lr.toPrecision(4)} (${s.lrFactor} / lambda0) -> ${r.phase}; ${r.catapults.length} catapult(s); final lambda ${finalLambda} vs 2/eta ${r.edge.toPrecision(4)}`;
    } else {
      const gd = s.batch >= (userTask?.X.rows ?? DEFAULT_RELU_LAB.n) ? 'GD' : `SGD (batch ${s.batch})`; // a batch of n or more rows is GD
      status.textContent = `ReLU m=${s.width}, ${gd}: lambda0 ${r.lambda0.toPrecision(4)}, eta ${r.lr.toPrecision(4)} -> ${r.phase}; ${r.catapults.length} catapult(s); lambda_max ${finalLambda} vs 2/eta ${r.edge.toPrecision(4)}${alignments ? `; alignment ${alignments[0].toFixed(3)} -> ${alignments[alignments.length - 1].toFixed(3)}` : ''}${r.testLoss !== null ? `; test loss ${r.testLoss.toExponential(3)}` : ''}`;
    }
    status.className = `status phase-${r.phase}`;
  } else if (o.kind === 'lrSweep') {
    const rows = o.rows;
    const cap = (v: number | null) => (v !== null ? Math.min(v, 1e30) : 1e30);
    setChart(
      'lrsweep',
      PHASES.map(
        (ph, i) =>
          ({
            label: ph,
            // One unit across the lab: eta in units of 1/lambda0 (the form's lr factor), so eta/edge x 2.
            data: rows.filter((r) => r.phase === ph).map((r) => ({ x: 2 * r.etaOverEdge, y: cap(r.maxLoss) })),
            showLine: false,
            pointRadius: 6,
            borderColor: color([2, 1, 4][i]),
            backgroundColor: color([2, 1, 4][i]),
          }) as ChartDataset,
      ),
      'eta x lambda0 (lazy below 2)',
      'max loss',
      true,
    );
    const mismatch = rows.filter((r) => r.recursionPhase && r.recursionPhase !== r.phase).length;
    status.textContent = `sweep (eta in units of 1/lambda0): ${rows.map((r) => `${+(2 * r.etaOverEdge).toPrecision(3)}: ${r.phase}`).join(' · ')}${o.model === 'linear' ? ` · exact recursion agrees on ${rows.length - mismatch}/${rows.length}` : ''}`;
  } else {
    const mean = o.batches.map((b) => {
      const rs = o.rows.filter((r) => r.batch === b);
      return rs.reduce((a, r) => a + r.catapults, 0) / rs.length;
    });
    setChart(
      'batchsweep',
      [
        {
          label: `mean catapults over ${o.seeds.length} seeds`,
          data: mean,
          backgroundColor: color(1),
        } as ChartDataset,
      ],
      'batch size',
      'catapults per run',
      false,
      'bar',
      o.batches.map(String),
    );
    status.textContent = `batch sweep: ${o.batches.map((b, i) => `B=${b}: ${mean[i].toFixed(1)}`).join(' · ')} catapults per run`;
  }
}

/** What ran and why, in one line after the run's summary. */
function whatRan(info: LabRunInfo): string {
  const note = info.backendNote && info.backendNote !== info.reason ? ` (${info.backendNote})` : '';
  return `${info.reason}${note} · ${info.device}`;
}

function describe(s: LabSettings, sweep: LabSweep): string {
  if (sweep === 'lr') return `learning-rate sweep: 12 runs of the ${s.model} model…`;
  if (sweep === 'batch') return `batch-size sweep: ReLU runs at lr factor ${s.lrFactor}…`;
  return `training the ${s.model === 'linear' ? 'linear toy' : 'ReLU network'}…`;
}

/** The settings of the run in progress, as the host announced it. */
let started: LabSettings | undefined;

function setBusy(busy: boolean): void {
  for (const b of [runBtn, lrBtn, batchBtn]) b.disabled = busy;
  stopBtn.disabled = !busy;
}

/** A run the host placed on this page: its GPU or its thread. */
async function runHere(
  placement: 'page-gpu' | 'page-cpu',
  s: LabSettings,
  sweep: LabSweep,
): Promise<Extract<LabWebviewToHost, { type: 'labOutcome' }>> {
  token.cancelled = false;
  chartsFor(s.model);
  live = { losses: [], lastDraw: 0 };
  const backend: CatapultBackend & { dispose(): void } =
    placement === 'page-gpu'
      ? await WebGpuCatapultBackend.leased(pageGpuLease())
      : yieldingCatapult(new CpuCatapultBackend(), frameYield);
  const t0 = performance.now();
  try {
    const outcome = toWireLabOutcome(
      await runLab(s, sweep, backend, {
        task: userTask,
        cancel: token,
        onProgress: (p) => onStep(toWireLabStep(p), s.steps),
      }),
    );
    show(s, outcome);
    return {
      type: 'labOutcome',
      outcome,
      backend: backend.name,
      device: backend.device,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    backend.dispose();
  }
}

async function onHostMessage(m: LabHostToWebview, reply: Reply<LabWebviewToHost> | undefined): Promise<void> {
  switch (m.type) {
    case 'labInit':
      applySettings(m.settings);
      return;
    case 'labDataset':
      try {
        userTask = m.dataset ? labTaskFromDataset(fromWireDataset(m.dataset)) : undefined;
        dataLine.textContent = m.dataset ? `data: ${m.name} (ReLU model only)` : SYNTHETIC;
        if (drawnFor !== null && drawnFor !== chartKey(model.value)) clearCharts();
      } catch (e) {
        dataLine.textContent = `data: ${e instanceof Error ? e.message : String(e)}`;
      }
      return;
    case 'labRun': {
      const answer = await runHere(m.placement, m.settings, m.sweep).catch((e: unknown): LabWebviewToHost => ({
        type: 'labFailed',
        failure: failureOf(e),
      }));
      reply?.(answer);
      return;
    }
    case 'labStarted':
      chartsFor(m.settings.model);
      started = m.settings;
      applySettings(m.settings);
      setBusy(true);
      live = { losses: [], lastDraw: 0 };
      status.className = 'status';
      status.textContent = describe(m.settings, m.sweep);
      return;
    case 'labProgress':
      for (const p of m.steps) onStep(p, started?.steps ?? 0);
      return;
    case 'labFinished':
      if (m.outcome) show(m.settings, m.outcome);
      status.textContent += ` · ${whatRan(m.info)}`;
      setBusy(false);
      return;
    case 'labStopped':
      status.className = 'status';
      status.textContent = m.cancelled ? 'Stopped.' : `Failed: ${m.message}`;
      setBusy(false);
      return;
    case 'labCancel':
      token.cancelled = true;
      return;
    default:
      unhandled(m);
  }
}

const link = connect<LabWebviewToHost, LabHostToWebview>(onHostMessage);

runBtn.addEventListener('click', () => link.post({ type: 'labStart', settings: settings(), sweep: 'none' }));
lrBtn.addEventListener('click', () => link.post({ type: 'labStart', settings: settings(), sweep: 'lr' }));
batchBtn.addEventListener('click', () => link.post({ type: 'labStart', settings: settings(), sweep: 'batch' }));
stopBtn.addEventListener('click', () => {
  token.cancelled = true;
  link.post({ type: 'labStop' });
});
dataBtn.addEventListener('click', () => link.post({ type: 'labPickDataset' }));
synthBtn.addEventListener('click', () => link.post({ type: 'labSynthetic' }));
onThemeChange(() => {
  theme = readTheme();
});
