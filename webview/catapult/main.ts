// The catapult lab (SCIENCE.md §3): trains the linear toy and the two-layer ReLU network with the
// core's code right here in the page (the ReLU network on the page's WebGPU when it has an adapter, else
// the CPU float64 reference), yielding to the page between steps so charts update
// live and Stop works; draws loss with catapults, lambda_max against 2/eta, AGOP alignment, and the
// lr- and batch-size sweeps.
import { Chart, registerables, type ChartConfiguration, type ChartDataset } from 'chart.js';
import {
  CpuCatapultBackend,
  DEFAULT_RELU_LAB,
  batchSweep,
  findCatapults,
  labTaskFromDataset,
  lrSweep,
  trainLinearToy,
  trainReluLab,
  type CatapultBackend,
  type Catapult,
  type LabTask,
  type ReluSession,
} from '../../src/core/catapult/index';
import { WebGpuCatapultBackend } from '../../src/core/catapult/webgpu';
import { BackendError } from '../../src/core/errors';
import { CancelledError } from '../../src/core/errors';
import { fromWireDataset } from '../../src/protocol/wire';
import type { LabBackendInfo, LabHostToWebview, LabSettings, LabWebviewToHost } from '../../src/protocol/catapult';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { el } from '../shared/dom';

Chart.register(...registerables);

interface VsCodeApi {
  postMessage(m: LabWebviewToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (m: LabWebviewToHost) => vscode.postMessage(m);

let theme: Theme = readTheme();
const token = { cancelled: false };
let busy = false;

/** Gives the page a turn (drawing, the Stop button) after about a frame's worth of compute. */
let lastYield = performance.now();
async function maybeYield(): Promise<void> {
  if (token.cancelled) throw new CancelledError();
  if (performance.now() - lastYield < 30) return;
  await new Promise((r) => setTimeout(r, 0));
  lastYield = performance.now();
  if (token.cancelled) throw new CancelledError();
}

/** The CPU reference backend, with a yield point before every session call. */
function yielding(inner: CatapultBackend): CatapultBackend {
  return {
    name: inner.name,
    device: inner.device,
    async createSession(problem) {
      const s = await inner.createSession(problem);
      const wrap: ReluSession = {
        residuals: async () => {
          await maybeYield();
          return s.residuals();
        },
        step: async (lr, rows) => {
          await maybeYield();
          return s.step(lr, rows);
        },
        ntkMatVec: async (v) => {
          await maybeYield();
          return s.ntkMatVec(v);
        },
        agop: async () => {
          await maybeYield();
          return s.agop();
        },
        weights: () => s.weights(),
        dispose: () => s.dispose(),
      };
      return wrap;
    },
  };
}

/** The page's WebGPU backend, made once and kept for later runs, or why there is none. */
let pageGpu: Promise<WebGpuCatapultBackend | string> | undefined;
function webGpuOfPage(): Promise<WebGpuCatapultBackend | string> {
  return (pageGpu ??= (async () => {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) return 'navigator.gpu is not available in this webview';
    try {
      return await WebGpuCatapultBackend.create(gpu);
    } catch (e) {
      return e instanceof Error ? e.message.replace(/^webgpu backend: /, '') : String(e);
    }
  })());
}

/**
 * Runs `work` on the backend `choice` asks for: the ReLU network on WebGPU when the page has an adapter,
 * else on the CPU with the reason; under auto a device failure mid-run is repeated on the CPU. The
 * linear toy does not use a backend (it is the exact float64 recursion).
 */
async function onLabBackend<T extends object>(
  choice: LabSettings['backend'],
  model: 'linear' | 'relu',
  work: (backend: CatapultBackend) => Promise<T>,
): Promise<T & LabBackendInfo> {
  const cpu = new CpuCatapultBackend();
  const onCpu = async (note: string | null) => ({
    ...(await work(yielding(cpu))),
    backend: cpu.name,
    device: cpu.device,
    backendNote: note,
  });
  if (model === 'linear') return onCpu('the linear toy runs the exact recursion on the CPU');
  if (choice === 'cpu') return onCpu(null);
  const gpu = await webGpuOfPage();
  if (typeof gpu === 'string') {
    if (choice === 'webgpu')
      throw new Error(`WebGPU was requested but is unavailable (${gpu}); choose backend 'auto' or 'cpu'`);
    return onCpu(`WebGPU unavailable (${gpu}); using the CPU backend`);
  }
  try {
    return { ...(await work(yielding(gpu))), backend: gpu.name, device: gpu.device, backendNote: null };
  } catch (e) {
    if (!(e instanceof BackendError) || choice !== 'auto') throw e;
    pageGpu = undefined;
    gpu.dispose();
    return onCpu(`${e.message}; continued on the CPU backend`);
  }
}

const backendLabel = (b: LabBackendInfo) => `on ${b.backend} (${b.device})${b.backendNote ? `: ${b.backendNote}` : ''}`;

const app = document.getElementById('app')!;
const header = el('header');
header.append(el('h2', {}, 'Catapult Lab'));
const form = el('div', { class: 'form' });
const model = el('select', { id: 'model' });
model.append(
  el('option', { value: 'relu' }, 'two-layer ReLU network'),
  el('option', { value: 'linear' }, 'linear toy model (SCIENCE.md §3)'),
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
const dataLine = el(
  'span',
  { id: 'data', class: 'status' },
  'data: synthetic low-rank task y = d x0 x1 (target AGOP known)',
);
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
  { id: 'lrsweep', title: 'Phase picture: learning-rate sweep (eta in units of 2/lambda0)' },
  { id: 'batchsweep', title: 'Catapults per run against batch size' },
];
const grid = el('main', { class: 'grid' });
const canvases = new Map<string, HTMLCanvasElement>();
for (const c of CARDS) {
  const card = el('section', { class: 'card', id: `card-${c.id}` });
  const wrap = el('div', { class: 'chartwrap' });
  const canvas = el('canvas', { id: c.id, role: 'img', 'aria-label': c.title });
  wrap.append(canvas);
  card.append(el('h3', {}, c.title), wrap);
  grid.append(card);
  canvases.set(c.id, canvas);
}
app.append(header, grid);

const charts = new Map<string, Chart>();
function axis(t: string, log = false) {
  return {
    type: log ? 'logarithmic' : 'linear',
    ticks: { color: theme.muted },
    grid: { color: theme.grid },
    title: { display: !!t, text: t, color: theme.muted },
  };
}
function setChart(
  id: string,
  datasets: ChartDataset[],
  x: string,
  y: string,
  logY = false,
  type: 'line' | 'bar' = 'line',
  labels?: string[],
): void {
  charts.get(id)?.destroy();
  const config = {
    type,
    data: labels ? { labels, datasets } : { datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: labels ? undefined : false,
      color: theme.foreground,
      font: { family: theme.fontFamily },
      plugins: { legend: { labels: { color: theme.foreground } } },
      scales: { x: labels ? { ...axis(x), type: 'category' } : axis(x), y: axis(y, logY) },
    },
  } as unknown as ChartConfiguration;
  charts.set(id, new Chart(canvases.get(id)!, config));
}
const color = (i: number) => theme.series[i % theme.series.length];
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

function drawLoss(losses: ArrayLike<number>, cats: Catapult[]): void {
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
    'lambda',
    true,
  );
}

async function trainOnce(
  s: LabSettings,
  backend: CatapultBackend,
): Promise<Omit<Extract<LabWebviewToHost, { type: 'labDone' }>, keyof LabBackendInfo>> {
  const t0 = performance.now();
  if (s.model === 'linear') {
    const r = trainLinearToy({ width: s.width, lrFactor: s.lrFactor, steps: s.steps, seed: s.seed });
    const cats = findCatapults(r.losses);
    drawLoss(r.losses, cats);
    drawLambda(
      r.lambdas.map((_, i) => i),
      r.lambdas,
      r.edge,
      r.lambdas.length - 1,
    );
    setChart('align', [], 'step', 'cosine');
    status.textContent = `linear toy: lambda0 ${r.lambda0.toPrecision(4)}, eta ${r.lr.toPrecision(4)} (${(s.lrFactor / 2).toFixed(2)} x 2/lambda0) -> ${r.phase}; ${cats.length} catapult(s); final lambda ${r.finalLambda.toPrecision(4)} vs 2/eta ${r.edge.toPrecision(4)}`;
    status.className = `status phase-${r.phase}`;
    return {
      type: 'labDone',
      requestId: '',
      model: 'linear',
      lambda0: r.lambda0,
      lr: r.lr,
      phase: r.phase,
      catapults: cats.length,
      losses: Float64Array.from(r.losses).buffer,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  const live: number[] = [],
    liveLambda: number[] = [],
    liveAt: number[] = [],
    liveAlign: number[] = [];
  let lastDraw = 0;
  const r = await trainReluLab(
    { width: s.width, lrFactor: s.lrFactor, steps: s.steps, batch: s.batch, seed: s.seed, task: userTask },
    backend,
    {
      cancel: token,
      onProgress: (p) => {
        live.push(p.loss);
        if (p.lambda !== undefined) {
          liveAt.push(p.step);
          liveLambda.push(p.lambda);
        }
        if (p.alignment !== undefined) liveAlign.push(p.alignment);
        if (performance.now() - lastDraw > 250) {
          lastDraw = performance.now();
          drawLoss(live, []);
          status.textContent = `training: step ${p.step} of ${s.steps}, loss ${p.loss.toExponential(3)}${p.lambda !== undefined ? `, lambda_max ${p.lambda.toPrecision(4)}` : ''}`;
        }
      },
    },
  );
  drawLoss(r.losses, r.catapults);
  drawLambda(r.lambdaSteps, r.lambdas, r.edge, r.losses.length - 1);
  setChart(
    'align',
    r.alignments
      ? [
          {
            label: 'cos(G_net, G*)',
            data: r.alignments.map((y, i) => ({ x: r.lambdaSteps[i], y })),
            borderColor: color(2),
            backgroundColor: color(2),
            pointRadius: 2,
          } as ChartDataset,
        ]
      : [],
    'step',
    'cosine',
  );
  const gd = s.batch >= (userTask?.X.rows ?? DEFAULT_RELU_LAB.n) ? 'GD' : `SGD (batch ${s.batch})`; // a batch of n or more rows is GD
  status.textContent = `ReLU m=${s.width}, ${gd}: lambda0 ${r.lambda0.toPrecision(4)}, eta ${r.lr.toPrecision(4)} -> ${r.phase}; ${r.catapults.length} catapult(s); lambda_max ${r.lambdas[r.lambdas.length - 1].toPrecision(4)} vs 2/eta ${r.edge.toPrecision(4)}${r.alignments ? `; alignment ${r.alignments[0].toFixed(3)} -> ${r.alignments[r.alignments.length - 1].toFixed(3)}` : ''}${r.testLoss !== null ? `; test loss ${r.testLoss.toExponential(3)}` : ''}`;
  status.className = `status phase-${r.phase}`;
  return {
    type: 'labDone',
    requestId: '',
    model: 'relu',
    lambda0: r.lambda0,
    lr: r.lr,
    phase: r.phase,
    catapults: r.catapults.length,
    losses: Float64Array.from(r.losses).buffer,
    seconds: (performance.now() - t0) / 1000,
  };
}

const PHASES = ['lazy', 'catapult', 'divergent'] as const;

async function sweepLr(
  s: LabSettings,
  backend: CatapultBackend,
): Promise<Omit<Extract<LabWebviewToHost, { type: 'labSweepDone' }>, keyof LabBackendInfo>> {
  const t0 = performance.now();
  const xs = [0.25, 0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3];
  status.textContent = `learning-rate sweep: ${xs.length} runs of the ${s.model} model…`;
  const rows = await lrSweep(
    s.model,
    xs,
    { width: s.width, steps: s.steps, batch: s.batch, seed: s.seed, task: userTask },
    backend,
    token,
  );
  const cap = (v: number) => (Number.isFinite(v) ? Math.min(v, 1e30) : 1e30);
  setChart(
    'lrsweep',
    PHASES.map(
      (ph, i) =>
        ({
          label: ph,
          data: rows.filter((r) => r.phase === ph).map((r) => ({ x: r.etaOverEdge, y: cap(r.maxLoss) })),
          showLine: false,
          pointRadius: 6,
          borderColor: color([2, 1, 4][i]),
          backgroundColor: color([2, 1, 4][i]),
        }) as ChartDataset,
    ),
    'eta / (2 / lambda0)',
    'max loss',
    true,
  );
  const mismatch = rows.filter((r) => r.recursionPhase && r.recursionPhase !== r.phase).length;
  status.textContent = `sweep: ${rows.map((r) => `${r.etaOverEdge}:${r.phase}`).join(' · ')}${s.model === 'linear' ? ` · exact recursion agrees on ${rows.length - mismatch}/${rows.length}` : ''}`;
  return {
    type: 'labSweepDone',
    requestId: '',
    sweep: 'lr',
    rows: rows.map((r) => ({ x: r.etaOverEdge, phase: r.phase, catapults: r.catapults })),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function sweepBatch(
  s: LabSettings,
  backend: CatapultBackend,
): Promise<Omit<Extract<LabWebviewToHost, { type: 'labSweepDone' }>, keyof LabBackendInfo>> {
  const t0 = performance.now();
  const batches = [8, 16, 32, 64, 128];
  const seeds = [s.seed, s.seed + 1, s.seed + 2];
  status.textContent = `batch-size sweep: ${batches.length * seeds.length} ReLU runs at lr factor ${s.lrFactor}…`;
  const rows = await batchSweep(
    batches,
    seeds,
    { width: s.width, lrFactor: s.lrFactor, steps: s.steps, task: userTask },
    backend,
    token,
  );
  const mean = batches.map((b) => {
    const rs = rows.filter((r) => r.batch === b);
    return rs.reduce((a, r) => a + r.catapults, 0) / rs.length;
  });
  setChart(
    'batchsweep',
    [{ label: `mean catapults over ${seeds.length} seeds`, data: mean, backgroundColor: color(1) } as ChartDataset],
    'batch size',
    'catapults per run',
    false,
    'bar',
    batches.map(String),
  );
  status.textContent = `batch sweep: ${batches.map((b, i) => `B=${b}: ${mean[i].toFixed(1)}`).join(' · ')} catapults per run`;
  return {
    type: 'labSweepDone',
    requestId: '',
    sweep: 'batch',
    rows: rows.map((r) => ({ x: r.batch, phase: r.phase, catapults: r.catapults })),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function start(what: 'none' | 'lr' | 'batch', s: LabSettings, requestId: string): Promise<void> {
  if (busy) {
    post({ type: 'labFailed', requestId, message: 'the lab is already running; stop it first' });
    return;
  }
  busy = true;
  token.cancelled = false;
  for (const b of [runBtn, lrBtn, batchBtn]) b.disabled = true;
  stopBtn.disabled = false;
  post({
    type: 'labStarted',
    requestId,
    what:
      what === 'none'
        ? `training the ${s.model === 'linear' ? 'linear toy' : 'ReLU network'}…`
        : what === 'lr'
          ? 'learning-rate sweep…'
          : 'batch-size sweep…',
  });
  try {
    const model = what === 'batch' ? 'relu' : s.model;
    const done = await onLabBackend(s.backend ?? 'auto', model, (backend): Promise<object> =>
      what === 'none'
        ? trainOnce(s, backend)
        : what === 'lr'
          ? sweepLr(s, backend)
          : sweepBatch({ ...s, model }, backend),
    );
    status.textContent += ` · ${backendLabel(done)}`;
    post({ ...done, requestId } as LabWebviewToHost);
  } catch (e) {
    const message = e instanceof CancelledError ? 'stopped' : e instanceof Error ? e.message : String(e);
    status.textContent = e instanceof CancelledError ? 'Stopped.' : `Failed: ${message}`;
    post({ type: 'labFailed', requestId, message });
  } finally {
    busy = false;
    for (const b of [runBtn, lrBtn, batchBtn]) b.disabled = false;
    stopBtn.disabled = true;
  }
}

runBtn.addEventListener('click', () => void start('none', settings(), ''));
lrBtn.addEventListener('click', () => void start('lr', settings(), ''));
batchBtn.addEventListener('click', () => void start('batch', settings(), ''));
stopBtn.addEventListener('click', () => {
  token.cancelled = true;
});
dataBtn.addEventListener('click', () => post({ type: 'labPickDataset' }));
synthBtn.addEventListener('click', () => {
  userTask = undefined;
  dataLine.textContent = 'data: synthetic low-rank task y = d x0 x1 (target AGOP known)';
});
onThemeChange(() => {
  theme = readTheme();
});

window.addEventListener('message', (ev: MessageEvent<LabHostToWebview>) => {
  const m = ev.data;
  if (m.type === 'labInit') applySettings(m.settings);
  else if (m.type === 'labDataset') {
    try {
      userTask = m.dataset ? labTaskFromDataset(fromWireDataset(m.dataset)) : undefined;
      dataLine.textContent = m.dataset
        ? `data: ${m.name} (ReLU model only)`
        : 'data: synthetic low-rank task y = d x0 x1 (target AGOP known)';
    } catch (e) {
      dataLine.textContent = `data: ${e instanceof Error ? e.message : String(e)}`;
    }
  } else if (m.type === 'labCancel') token.cancelled = true;
  else if (m.type === 'labRun') {
    applySettings(m.settings);
    void start(m.sweep, m.settings, m.requestId);
  }
});
post({ type: 'ready' });
