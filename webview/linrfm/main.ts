// The lin-RFM view (docs/science.md §8): the observed mask and the completed matrix as heatmaps (block
// means when the matrix is larger than the view, said under each), the observed MSE and validation
// error per iteration and the latest singular value spectra (log scales) as they stream in, Cancel
// while it runs, the verdict (converged or NOT converged) in words, and Save as .npy or .csv. What is
// drawn is kept in the page's state, so a restored tab shows it again.
import type { ChartDataset } from 'chart.js';
import { unhandled } from '../../src/protocol/channel';
import {
  pictureNames,
  type LinRfmFinal,
  type LinRfmHostToWebview,
  type LinRfmInfo,
  type LinRfmWebviewToHost,
  type MatrixPicture,
  type WireLinRfmIteration,
} from '../../src/protocol/linrfm';
import { ChartSet, baseOptions, seriesColor, themedAxis, type ChartConfiguration } from '../shared/charts';
import { chartCard, el } from '../shared/dom';
import { Heatmap } from '../shared/heatmap';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { connect } from '../shared/vscodeApi';

/** Spectra overlaid on the chart: the latest few. */
const SPECTRA = 4;

/** A picture as the page keeps it in its state (JSON: numbers, not buffers). */
type KeptPicture = Omit<MatrixPicture, 'data'> & { data: number[] };
interface Kept {
  info: LinRfmInfo;
  mask: KeptPicture;
  curve: WireLinRfmIteration[];
  spectra: { label: string; values: number[] }[];
  final: (Omit<LinRfmFinal, 'completed' | 'singularValues'> & { completed: KeptPicture }) | null;
  stopped: { message: string; cancelled: boolean } | null;
  restored?: boolean;
}

let theme: Theme = readTheme();
let kept: Kept | null = null;
let running = false;

const app = document.getElementById('app')!;
const header = el('header');
const title = el('h2', { id: 'title' }, 'Complete Matrix (lin-RFM)');
const info = el('div', { class: 'final', id: 'info' }, '');
const status = el('div', { class: 'status', id: 'status', role: 'status' }, 'Loading the matrix…');
const verdict = el('div', { class: 'final', id: 'verdict', role: 'status' }, '');
const controls = el('div', { class: 'controls' });
const cancelBtn = el('button', { id: 'cancel', type: 'button' }, 'Cancel');
const saveNpy = el('button', { id: 'save-npy', type: 'button', class: 'secondary' }, 'Save as .npy…');
const saveCsv = el('button', { id: 'save-csv', type: 'button', class: 'secondary' }, 'Save as .csv…');
controls.append(cancelBtn, saveNpy, saveCsv);
header.append(title, info, controls, status, verdict);

const grid = el('main', { class: 'grid' });
const curveCard = chartCard('curve', 'Observed MSE and validation error per iteration (log scale)');
const spectrumCard = chartCard('spectrum', `Singular values of the iterate, the latest ${SPECTRA} spectra (log scale)`);

function heatmapCard(id: string, heading: string) {
  const card = el('section', { class: 'card', id: `card-${id}` });
  const note = el('p', { class: 'hint', id: `${id}-note` }, '');
  const wrap = el('div', { class: 'heatwrap' });
  const canvas = el('canvas', { id, role: 'img', 'aria-label': heading });
  const tip = el('div', { class: 'tip' });
  tip.hidden = true;
  wrap.append(canvas, tip);
  card.append(el('h3', {}, heading), note, wrap);
  return { card, note, heatmap: new Heatmap(canvas, tip, () => theme) };
}
const maskCard = heatmapCard('mask', 'Observed entries (1 = observed, 0 = missing)');
const completedCard = heatmapCard('completed', 'Completed matrix');
for (const c of [curveCard, spectrumCard, maskCard, completedCard]) grid.append(c.card);
app.append(header, grid);

const canvases: Record<string, HTMLCanvasElement> = { curve: curveCard.canvas, spectrum: spectrumCard.canvas };
const charts = new ChartSet((id) => canvases[id]);

const fromPicture = (p: MatrixPicture): KeptPicture => ({ ...p, data: Array.from(new Float64Array(p.data)) });
const exp = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : v.toExponential(3));
/** Log axes show no value <= 0 (an exact fit): such points are left out. */
const positive = (v: number | null) => (v !== null && v > 0 ? v : NaN);

function setBusy(busy: boolean): void {
  running = busy;
  cancelBtn.disabled = !busy;
  const canSave = !busy && !!kept?.final && !kept.restored;
  saveNpy.disabled = !canSave;
  saveCsv.disabled = !canSave;
  document.body.dataset.state = busy ? 'running' : kept?.final ? 'finished' : kept?.stopped ? 'stopped' : 'idle';
}

function line(label: string, points: { x: number; y: number }[], i: number, dash = false): ChartDataset {
  return {
    label,
    data: points,
    borderColor: seriesColor(theme, i),
    backgroundColor: seriesColor(theme, i),
    borderWidth: 1.5,
    pointRadius: points.length > 60 ? 0 : 2,
    ...(dash ? { borderDash: [5, 4] } : {}),
  } as ChartDataset;
}

function setChart(id: 'curve' | 'spectrum', datasets: ChartDataset[], x: string, y: string): void {
  const options = baseOptions(theme, x, y, true) as Record<string, unknown> & {
    scales: Record<string, Record<string, unknown>>;
  };
  charts.set(id, {
    type: 'line',
    data: { datasets },
    options: { ...options, parsing: false, scales: { x: themedAxis(theme, x), y: options.scales.y } },
  } as ChartConfiguration);
}

function drawCharts(): void {
  if (!kept) return;
  const c = kept.curve;
  const run = c.filter((it) => !it.refit);
  const refit = c.filter((it) => it.refit);
  const curve = [
    line(
      'observed MSE (fitted entries)',
      run.map((it) => ({ x: it.iter, y: positive(it.observedMse) })),
      0,
    ),
  ];
  if (c.some((it) => it.validationError !== null))
    curve.push(
      line(
        'validation error (held-back entries)',
        c.map((it) => ({ x: it.iter, y: positive(it.validationError) })),
        1,
        true,
      ),
    );
  if (refit.length)
    curve.push(
      line(
        'observed MSE, refit on every observed entry',
        refit.map((it) => ({ x: it.iter, y: positive(it.observedMse) })),
        6,
      ),
    );
  setChart('curve', curve, 'iteration', 'error');
  const spectra = kept.spectra.slice(-SPECTRA);
  setChart(
    'spectrum',
    spectra.map((s, k) =>
      line(
        s.label,
        s.values.map((v, i) => ({ x: i + 1, y: positive(v) })),
        k + 2,
        k < spectra.length - 1,
      ),
    ),
    'index i',
    'σᵢ',
  );
}

function drawPicture(card: ReturnType<typeof heatmapCard>, p: KeptPicture | null, label: string): void {
  if (!p) {
    card.heatmap.set(null);
    card.note.textContent = '';
    return;
  }
  card.note.textContent =
    p.rowStep === 1 && p.colStep === 1
      ? `${p.rows} × ${p.cols}, every entry shown.`
      : `${p.rows} × ${p.cols} shown downsampled as ${p.shownRows} × ${p.shownCols}: each cell is the mean of a ${p.rowStep} × ${p.colStep} block.`;
  card.heatmap.set({
    values: Float64Array.from(p.data),
    names: pictureNames(p.cols, p.colStep),
    rowNames: pictureNames(p.rows, p.rowStep),
    label,
  });
}

function drawAll(): void {
  drawCharts();
  drawPicture(maskCard, kept?.mask ?? null, 'observed');
  drawPicture(completedCard, kept?.final?.completed ?? null, 'completed');
}

function describeInfo(i: LinRfmInfo): string {
  const pct = ((100 * i.observed) / Math.max(1, i.rows * i.cols)).toFixed(1);
  const a = i.settings.alpha === 0.5 ? '½' : String(i.settings.alpha);
  return `${i.file}: ${i.rows} × ${i.cols}, ${i.observed} entries observed (${pct}%); α = ${a}, λ = ${i.settings.reg}, at most ${i.settings.maxIters} iterations`;
}

function showProgress(): void {
  const last = kept?.curve[kept.curve.length - 1];
  if (!last) return;
  status.textContent = last.refit
    ? `Converged; refitting on every observed entry, iteration ${last.iter}: observed MSE ${exp(last.observedMse)}`
    : `Iteration ${last.iter}: observed MSE ${exp(last.observedMse)}, validation error ${exp(last.validationError)}`;
}

function showVerdict(): void {
  verdict.classList.remove('error');
  if (kept?.final) {
    const f = kept.final;
    const where = `${f.seconds.toFixed(2)} s on ${f.reason} (${f.device})`;
    const refit = f.refitIterations
      ? `, then refitted on every observed entry for ${f.refitIterations} iterations`
      : '';
    const why =
      f.stopReason === 'stalled'
        ? 'the validation error stopped improving'
        : f.stopReason === 'max-iters'
          ? 'the iteration budget ran out'
          : 'the validation error reached the tolerance';
    verdict.textContent = f.converged
      ? `Converged after ${f.iterations} iterations (validation error ${exp(f.validationError)})${refit}: observed MSE ${exp(f.observedMse)}, rank estimate ${f.rankEstimate}; ${where}.`
      : `NOT converged after ${f.iterations} iterations (${why}): validation error ${exp(f.validationError)}, observed MSE ${exp(f.observedMse)}. The completed matrix is the best iterate, not a recovery (too few entries observed for this rank, or more iterations needed); ${where}.`;
    if (!f.converged) verdict.classList.add('error');
    status.textContent = kept.restored
      ? 'Restored view: run Complete Matrix again to save the completed matrix.'
      : 'Done. Save the completed matrix as .npy or .csv.';
  } else if (kept?.stopped) {
    verdict.textContent = kept.stopped.cancelled
      ? 'Cancelled: no completed matrix.'
      : `Failed: ${kept.stopped.message}`;
    verdict.classList.add('error');
  } else verdict.textContent = '';
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function keep(): void {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => kept && link.setState(kept), 500);
}

function onMessage(m: LinRfmHostToWebview): void {
  switch (m.type) {
    case 'start':
      kept = { info: m.info, mask: fromPicture(m.mask), curve: [], spectra: [], final: null, stopped: null };
      info.textContent = describeInfo(m.info);
      status.textContent = 'Completing…';
      setBusy(true);
      showVerdict();
      drawAll();
      break;
    case 'progress':
      if (!kept) return;
      kept.curve.push(...m.iterations);
      if (m.spectrum) {
        kept.spectra.push({
          label: `iteration ${m.spectrum.iter}`,
          values: Array.from(new Float64Array(m.spectrum.values)),
        });
        if (kept.spectra.length > SPECTRA) kept.spectra.splice(0, kept.spectra.length - SPECTRA);
      }
      showProgress();
      drawCharts();
      break;
    case 'finished': {
      if (!kept) return;
      const { completed, singularValues, ...rest } = m.final;
      kept.final = { ...rest, completed: fromPicture(completed) };
      kept.spectra.push({ label: 'completed matrix', values: Array.from(new Float64Array(singularValues)) });
      kept.spectra = kept.spectra.slice(-SPECTRA);
      setBusy(false);
      showVerdict();
      drawAll();
      break;
    }
    case 'stopped':
      if (kept) kept.stopped = { message: m.message, cancelled: m.cancelled };
      status.textContent = m.cancelled ? 'Cancelled.' : 'Failed.';
      setBusy(false);
      showVerdict();
      break;
    case 'saved':
      status.textContent = `Saved to ${m.path}.`;
      break;
    default:
      unhandled(m);
  }
  keep();
}

cancelBtn.addEventListener('click', () => {
  if (!running) return;
  status.textContent = 'Cancelling…';
  link.post({ type: 'cancel' });
});
saveNpy.addEventListener('click', () => link.post({ type: 'save', format: 'npy' }));
saveCsv.addEventListener('click', () => link.post({ type: 'save', format: 'csv' }));
onThemeChange(() => {
  theme = readTheme();
  drawAll();
});

const link = connect<LinRfmWebviewToHost, LinRfmHostToWebview, Kept>(onMessage);
const before = link.getState();
if (before) {
  // A restored tab: the host has no matrix for it any more; show what was drawn, without Save.
  kept = { ...before, restored: true };
  info.textContent = describeInfo(kept.info);
  setBusy(false);
  showVerdict();
  if (!kept.final && !kept.stopped) status.textContent = 'Restored view of a run that did not finish.';
  drawAll();
} else setBusy(false);
