// The training lab page: the MLP's settings, live loss and NFA correlation per epoch, and the actions
// on the trained network (the host trains; this page only draws and asks).
import type {
  NfaLabEpoch,
  NfaLabHostToWebview,
  NfaLabPanelState,
  NfaLabSettings,
  NfaLabWebviewToHost,
} from '../../src/protocol/nfaLab';
import { baseOptions, ChartSet, seriesColor, type ChartConfiguration } from '../shared/charts';
import { el } from '../shared/dom';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';
import { unhandled } from '../../src/protocol/channel';
import { ACTIVATIONS } from '../../src/core/nfa/activation';
import { MODULAR_OPS } from '../../src/core/data/modular';

let theme: Theme = readTheme();
const epochs: NfaLabEpoch[] = [];
let training = false;
let trained = false;
let hasData = false;

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', {}, 'NFA Training Lab');
const dataLine = el('div', { class: 'final', id: 'dataset' }, 'No dataset chosen.');
const status = el(
  'div',
  { class: 'status', id: 'status' },
  'Train a small MLP and watch its neural feature matrices line up with its AGOP.',
);
const backendLine = el('div', { class: 'final', id: 'backend' }, '');
header.append(title, dataLine, status, backendLine);

const form = el('div', { class: 'form' });
function numberField(id: keyof NfaLabSettings, label: string, attrs: Record<string, string>): HTMLInputElement {
  const l = el('label', { id: `field-${id}` }, label);
  const i = el('input', { id, type: 'number', ...attrs });
  l.append(i);
  form.append(l);
  return i;
}
function selectField(
  id: keyof NfaLabSettings,
  label: string,
  options: readonly string[],
  names: Record<string, string> = {},
): HTMLSelectElement {
  const l = el('label', { id: `field-${id}` }, label);
  const s = el('select', { id });
  for (const o of options) s.append(el('option', { value: o }, names[o] ?? o));
  l.append(s);
  form.append(l);
  return s;
}
function checkField(id: keyof NfaLabSettings, label: string): HTMLInputElement {
  const l = el('label', { id: `field-${id}`, class: 'check' });
  const i = el('input', { id, type: 'checkbox' });
  l.append(i, document.createTextNode(` ${label}`));
  form.append(l);
  return i;
}
const fields = {
  task: selectField('task', 'Task', ['dataset', 'modular'], {
    dataset: 'the chosen dataset',
    modular: 'modular arithmetic (generated)',
  }),
  op: selectField('op', 'Operation', MODULAR_OPS, { add: 'a + b', sub: 'a − b', mul: 'a × b', div: 'a ÷ b' }),
  p: numberField('p', 'Prime p', { min: '2', step: '1' }),
  trainFrac: numberField('trainFrac', 'Training fraction of the pairs', { min: '0', max: '1', step: 'any' }),
  width: numberField('width', 'Width (units per hidden layer)', { min: '1', step: '1' }),
  depth: numberField('depth', 'Depth (hidden layers)', { min: '0', max: '64', step: '1' }),
  activation: selectField('activation', 'Activation', ACTIVATIONS),
  bias: checkField('bias', 'Biases'),
  optimizer: selectField('optimizer', 'Optimizer', ['adam', 'adamw', 'sgd']),
  lr: numberField('lr', 'Learning rate', { min: '0', step: 'any' }),
  weightDecay: numberField('weightDecay', 'Weight decay (AdamW)', { min: '0', step: 'any' }),
  batch: numberField('batch', 'Batch size', { min: '1', step: '1' }),
  epochs: numberField('epochs', 'Epochs', { min: '0', step: '1' }),
  seed: numberField('seed', 'Seed', { min: '0', step: '1' }),
};
const grokPreset = el('button', { id: 'grokking-preset', class: 'secondary' }, 'Grokking network preset');
grokPreset.title =
  'Quadratic activation σ(z) = z², no biases, AdamW (lr 1e-3, weight decay 1), batch 32 (docs/science.md §4)';
form.append(grokPreset);
/** Modular fields only for the modular task; weight decay only for AdamW. */
function showRelevant(): void {
  const modular = fields.task.value === 'modular';
  for (const k of ['op', 'p', 'trainFrac'] as const) fields[k].parentElement!.hidden = !modular;
  fields.weightDecay.parentElement!.hidden = fields.optimizer.value !== 'adamw';
}
fields.task.addEventListener('change', () => {
  showRelevant();
  updateButtons();
});
fields.optimizer.addEventListener('change', showRelevant);
grokPreset.addEventListener('click', () => {
  fields.activation.value = 'quadratic';
  fields.bias.checked = false;
  fields.optimizer.value = 'adamw';
  fields.lr.value = '0.001';
  fields.weightDecay.value = '1';
  fields.batch.value = '32';
  fields.depth.value = '1';
  showRelevant();
});
const buttons = el('div', { class: 'controls' });
const chooseBtn = el('button', { id: 'choose', class: 'secondary' }, 'Choose Dataset…');
const trainBtn = el('button', { id: 'train' }, 'Train');
const cancelBtn = el('button', { id: 'cancel', class: 'secondary' }, 'Cancel');
const inspectBtn = el('button', { id: 'inspect', class: 'secondary' }, 'Inspect');
const saveBtn = el('button', { id: 'save', class: 'secondary' }, 'Save Weights…');
buttons.append(chooseBtn, trainBtn, cancelBtn, inspectBtn, saveBtn);

const grid = el('main', { class: 'grid' });
type ChartId = 'loss' | 'nfa' | 'accuracy';
const canvases: Record<ChartId, HTMLCanvasElement> = {
  loss: el('canvas', { id: 'loss', role: 'img', 'aria-label': 'Training loss per epoch' }),
  nfa: el('canvas', { id: 'nfa', role: 'img', 'aria-label': 'NFA correlation per epoch' }),
  accuracy: el('canvas', { id: 'accuracy', role: 'img', 'aria-label': 'Accuracy per epoch' }),
};
const cards: Partial<Record<ChartId, HTMLElement>> = {};
for (const [id, heading] of [
  ['loss', 'Training loss (MSE) per epoch'],
  ['nfa', 'NFA: Pearson of NFM_l with AGOP_l^1/2 per epoch'],
  ['accuracy', 'Accuracy per epoch (training and held-out pairs)'],
] as const) {
  const c = el('section', { class: 'card', id: `card-${id}` });
  const wrap = el('div', { class: 'chartwrap' });
  wrap.append(canvases[id]);
  c.append(el('h3', {}, heading), wrap);
  grid.append(c);
  cards[id] = c;
}
cards.accuracy!.hidden = true;
app.append(header, form, buttons, grid);

const charts = new ChartSet<ChartId>((id) => canvases[id]);

function settingsFromForm(): NfaLabSettings {
  return {
    task: fields.task.value as NfaLabSettings['task'],
    op: fields.op.value as NfaLabSettings['op'],
    p: Number(fields.p.value),
    trainFrac: Number(fields.trainFrac.value),
    width: Number(fields.width.value),
    depth: Number(fields.depth.value),
    activation: fields.activation.value,
    optimizer: fields.optimizer.value as NfaLabSettings['optimizer'],
    lr: Number(fields.lr.value),
    weightDecay: Number(fields.weightDecay.value),
    bias: fields.bias.checked,
    batch: Number(fields.batch.value),
    epochs: Number(fields.epochs.value),
    seed: Number(fields.seed.value),
  };
}

function fillForm(s: NfaLabSettings): void {
  for (const [k, input] of Object.entries(fields)) {
    const v = s[k as keyof NfaLabSettings];
    if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = v === true;
    else input.value = String(v);
  }
  showRelevant();
}

function updateButtons(): void {
  trainBtn.disabled = training || (!hasData && fields.task.value !== 'modular');
  cancelBtn.disabled = !training;
  chooseBtn.disabled = training;
  inspectBtn.disabled = training || !trained;
  saveBtn.disabled = training || !trained;
}

/** Points drawn per curve at most: long runs are thinned (every stride-th epoch, the last always kept). */
const MAX_POINTS = 1500;

function shown(): NfaLabEpoch[] {
  const stride = Math.ceil(epochs.length / MAX_POINTS);
  if (stride <= 1) return epochs;
  return epochs.filter((_, i) => i % stride === 0 || i === epochs.length - 1);
}

function draw(): void {
  const pts = shown();
  const labels = pts.map((e) => String(e.epoch));
  const names = pts[0]?.layers.map((l) => l.name) ?? [];
  const positive = pts.every((e) => e.loss > 0);
  // Live updates change the data in place: recreating charts each batch would load the page's thread.
  const loss = charts.get('loss'),
    nfa = charts.get('nfa');
  if (
    loss &&
    nfa &&
    nfa.data.datasets.length === names.length &&
    (loss.options.scales?.y as { type?: string } | undefined)?.type ===
      (positive && pts.length > 1 ? 'logarithmic' : 'linear')
  ) {
    loss.data.labels = labels;
    loss.data.datasets[0].data = pts.map((e) => e.loss);
    nfa.data.labels = labels;
    names.forEach((_, i) => (nfa.data.datasets[i].data = pts.map((e) => e.layers[i]?.pearsonSqrt ?? null)));
    loss.update('none');
    nfa.update('none');
    const acc = charts.get('accuracy');
    if (acc) {
      acc.data.labels = labels;
      acc.data.datasets[0].data = pts.map((e) => e.trainAccuracy ?? null);
      acc.data.datasets[1].data = pts.map((e) => e.testAccuracy ?? null);
      acc.update('none');
    }
    return;
  }
  const options = (y: string, log = false, range?: [number, number]): ChartConfiguration['options'] => {
    const o = baseOptions(theme, 'epoch', y, log);
    if (range) Object.assign((o?.scales as Record<string, object>).y, { min: range[0], max: range[1] });
    return o;
  };
  const set = (id: ChartId, config: ChartConfiguration) => charts.set(id, config);
  const pointRadius = pts.length > 100 ? 0 : 2;
  set('loss', {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'MSE',
          data: pts.map((e) => e.loss),
          borderColor: seriesColor(theme, 0),
          backgroundColor: seriesColor(theme, 0),
          pointRadius,
        },
      ],
    },
    options: options('MSE', positive && pts.length > 1),
  });
  set('nfa', {
    type: 'line',
    data: {
      labels,
      datasets: names.map((n, i) => ({
        label: n,
        data: pts.map((e) => e.layers[i]?.pearsonSqrt ?? null),
        borderColor: seriesColor(theme, i),
        backgroundColor: seriesColor(theme, i),
        pointRadius,
        spanGaps: true,
      })),
    },
    options: options('Pearson', false, [-0.2, 1]),
  });
  // Accuracies exist for classification with held-out rows (the modular task): the grokking curve.
  const accuracies = pts.some((e) => e.testAccuracy !== undefined && e.testAccuracy !== null);
  cards.accuracy!.hidden = !accuracies;
  if (accuracies)
    set('accuracy', {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'train', data: pts.map((e) => e.trainAccuracy ?? null), color: 0 },
          { label: 'held out', data: pts.map((e) => e.testAccuracy ?? null), color: 1 },
        ].map((d) => ({
          label: d.label,
          data: d.data,
          borderColor: seriesColor(theme, d.color),
          backgroundColor: seriesColor(theme, d.color),
          pointRadius,
          spanGaps: true,
        })),
      },
      options: options('accuracy', false, [0, 1]),
    });
}

let drawQueued = false;
function drawSoon(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

chooseBtn.addEventListener('click', () => host.post({ type: 'chooseDataset' }));
trainBtn.addEventListener('click', () => host.post({ type: 'train', settings: settingsFromForm() }));
cancelBtn.addEventListener('click', () => host.post({ type: 'cancel' }));
inspectBtn.addEventListener('click', () => host.post({ type: 'inspect' }));
saveBtn.addEventListener('click', () => host.post({ type: 'save' }));
onThemeChange(() => {
  theme = readTheme();
  charts.destroy();
  draw();
});

function onMessage(m: NfaLabHostToWebview): void {
  switch (m.type) {
    case 'dataset':
      hasData = m.name !== null;
      dataLine.textContent = m.name
        ? `${m.name} → ${m.target} (${m.task}, ${m.rows} rows × ${m.cols} inputs)`
        : 'No dataset chosen.';
      fillForm(m.settings);
      break;
    case 'started':
      training = true;
      trained = false;
      epochs.length = 0;
      status.textContent = 'Training…';
      status.className = 'status';
      charts.destroy();
      draw();
      break;
    case 'backend':
      backendLine.textContent = `Training on ${m.backend === 'webgpu' ? 'WebGPU' : 'the CPU'} (${m.device})${m.backendNote ? ` — ${m.backendNote}` : ''}`;
      backendLine.title = m.backendNote ?? '';
      document.body.dataset.backend = m.backend;
      break;
    case 'epochs': {
      if (!m.records.length) break;
      epochs.push(...m.records);
      const rec = m.records[m.records.length - 1];
      const first = rec.layers[0];
      status.textContent = `Epoch ${rec.epoch}/${m.total}: loss ${rec.loss.toPrecision(4)}${first ? `, Pearson(NFM, AGOP^1/2) of ${first.name} ${first.pearsonSqrt.toFixed(3)}` : ''}${typeof rec.testAccuracy === 'number' ? `, held-out accuracy ${rec.testAccuracy.toFixed(3)}` : ''}`;
      drawSoon();
      break;
    }
    case 'finished':
      training = false;
      trained = !m.cancelled;
      status.textContent = m.message;
      document.body.dataset.trained = String(trained);
      break;
    case 'failed':
      training = false;
      status.textContent = m.message;
      status.className = 'status error';
      break;
    case 'persist':
      host.setState(m.state);
      break;
    case 'restore':
      // A lab revived after a window reload: the saved curves, and the trained network when it could be read back.
      training = false;
      trained = m.trained;
      epochs.length = 0;
      epochs.push(...m.epochs);
      status.textContent = m.message;
      status.className = m.error ? 'status error' : 'status';
      document.body.dataset.trained = String(trained);
      document.body.dataset.restored = '1';
      charts.destroy();
      draw();
      break;
    default:
      unhandled(m);
  }
  updateButtons();
}

updateButtons();
const host = connect<NfaLabWebviewToHost, NfaLabHostToWebview, NfaLabPanelState>(onMessage);
