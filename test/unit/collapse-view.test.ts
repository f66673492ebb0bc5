// The neural-collapse views' pure parts: labels for the core (classes of the training rows, held-out
// classes matched by name), the Deep RFM command's settings (the CLI's defaults and limits), and the
// chart lines (NC1 on a log scale leaves perfect collapse and missing values as gaps).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors';
import { DEFAULT_DEEP_RFM_OPTIONS } from '../../src/core/rfm/deep';
import { classLabels, deepRfmSettings, heldOutLabels } from '../../src/extension/nfa/collapseCore';
import { lineChart, ncLines } from '../../webview/nfa/collapseCharts';
import type { Theme } from '../../webview/shared/theme';

const data = (task: string, y: number[], classes?: string[]) => ({
  task,
  y: Float64Array.from(y),
  classes,
  targetName: 'label',
});

test('class labels: the training rows’ class indices; a numeric target is refused with the way out', () => {
  const r = classLabels(data('classification', [2, 0, 1, 1], ['a', 'b', 'c']), 'train.csv');
  assert.deepEqual([...r.labels], [2, 0, 1, 1]);
  assert.deepEqual(r.classes, ['a', 'b', 'c']);
  assert.throws(
    () => classLabels(data('regression', [0.5, 1.5]), 'train.csv'),
    (e: Error) =>
      e instanceof InputError &&
      /train\.csv/.test(e.message) &&
      /'label'/.test(e.message) &&
      /class labels/.test(e.message),
  );
  assert.throws(() => classLabels(data('classification', [0, 0], ['a']), 'train.csv'), InputError);
});

test('held-out labels follow the training classes by name; a class the training rows lack is -1', () => {
  // The held-out file lists its classes in its own order (c, a, z).
  const y = heldOutLabels(['a', 'b', 'c'], data('classification', [0, 1, 2, 1, 0], ['c', 'a', 'z']), 'test.csv');
  assert.deepEqual([...y], [2, 0, -1, 0, 2]);
  assert.throws(() => heldOutLabels(['a'], data('regression', [1]), 'test.csv'), /test\.csv.*numeric/);
});

test('Deep RFM settings: the CLI’s defaults, and its limits named after the command', () => {
  const { depth, width, bandwidth, seed } = DEFAULT_DEEP_RFM_OPTIONS;
  assert.deepEqual(deepRfmSettings({}, 'featureLens.runDeepRfm'), { depth, width, bandwidth, seed });
  assert.deepEqual(deepRfmSettings({ depth: 3, width: undefined }, 'w'), { depth: 3, width, bandwidth, seed });
  assert.throws(() => deepRfmSettings({ width: 0 }, 'featureLens.runDeepRfm'), /featureLens\.runDeepRfm width/);
  assert.throws(() => deepRfmSettings({ bandwidth: -1 }, 'featureLens.runDeepRfm'), /bandwidth/);
});

const theme: Theme = {
  dark: true,
  highContrast: false,
  foreground: '#ccc',
  muted: '#aaa',
  grid: '#444',
  fontFamily: 'sans-serif',
  backgrounds: ['#1e1e1e'],
  series: ['#111', '#222'],
  seriesFaded: '#333',
};

test('NC lines: one value per layer; on the log scale 0 and NaN are gaps, the held-out line dashed', () => {
  const nc = (nc1: number, nc2: number) => ({ nc1, nc1Classic: nc1 / 2, nc2 });
  const lines = ncLines(
    [
      { label: 'train', values: [nc(1, 0.5), nc(0.01, 0.1), nc(0, 0)], colour: 0 },
      { label: 'held-out', values: [nc(1.2, 0.6), nc(NaN, NaN), nc(0.3, 0.2)], colour: 1, dashed: true },
      { label: 'none', values: null, colour: 2 },
    ],
    'nc1',
  );
  assert.deepEqual(
    lines.map((l) => [l.label, l.values]),
    [
      ['train', [1, 0.01, 0]],
      ['held-out', [1.2, NaN, 0.3]],
    ],
  );
  const chart = lineChart(theme, ['input', 'h1', 'h2'], lines, 'layer', 'NC1', true) as unknown as {
    data: { datasets: { data: (number | null)[]; borderDash: number[]; borderColor: string }[] };
    options: { scales: { y: { type: string } } };
  };
  assert.equal(chart.options.scales.y.type, 'logarithmic');
  assert.deepEqual(chart.data.datasets[0].data, [1, 0.01, null]);
  assert.deepEqual(chart.data.datasets[1].data, [1.2, null, 0.3]);
  assert.deepEqual(chart.data.datasets[1].borderDash, [6, 4]);
  assert.equal(chart.data.datasets[1].borderColor, '#222');
  const linear = lineChart(theme, ['input', 'h1', 'h2'], lines, 'layer', 'NC2', false) as unknown as typeof chart;
  assert.deepEqual(linear.data.datasets[0].data, [1, 0.01, 0]);
});
