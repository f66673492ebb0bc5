// Neural-collapse drawing shared by the NFA view's Neural Collapse tab and the collapse view: NC curves
// per layer (NC1 on a log scale), class means in 2-D, and the numbers as a table (what a screen reader
// and Copy give). Colours come from the theme only.
import type { WireNc } from '../../src/protocol/collapse';
import { baseOptions, seriesColor, type ChartConfiguration } from '../shared/charts';
import { el } from '../shared/dom';
import type { Theme } from '../shared/theme';

/** One named line: y per x label; NaN leaves a gap (a layer with no held-out value). */
export interface Line {
  label: string;
  values: number[];
  /** Dashed: the held-out or control counterpart of the line with the same colour index. */
  dashed?: boolean;
  colour: number;
}

/** NC1 is shown on a log scale: values ≤ 0 (perfect collapse) are drawn at the axis floor as gaps. */
const positive = (v: number) => (Number.isFinite(v) && v > 0 ? v : null);

export function lineChart(
  theme: Theme,
  xLabels: string[],
  lines: Line[],
  x: string,
  y: string,
  logY: boolean,
): ChartConfiguration {
  return {
    type: 'line',
    data: {
      labels: xLabels,
      datasets: lines.map((l) => ({
        label: l.label,
        data: l.values.map((v) => (logY ? positive(v) : Number.isFinite(v) ? v : null)),
        borderColor: seriesColor(theme, l.colour),
        backgroundColor: seriesColor(theme, l.colour),
        borderDash: l.dashed ? [6, 4] : [],
        pointStyle: l.dashed ? 'triangle' : 'circle',
        pointRadius: 3,
        spanGaps: false,
      })),
    },
    options: baseOptions(theme, x, y, logY),
  } as ChartConfiguration;
}

/** NC1 (log) and NC2 lines of paired series (train/held-out, with/without AGOP) over the same x labels. */
export function ncLines(
  series: { label: string; values: WireNc[] | null; dashed?: boolean; colour: number }[],
  key: keyof WireNc,
): Line[] {
  return series
    .filter((s) => s.values && s.values.length)
    .map((s) => ({ label: s.label, values: s.values!.map((v) => v[key]), dashed: s.dashed, colour: s.colour }));
}

/** Class means (K x 2) on their top-2 principal directions: one point per class. */
export function meansChart(theme: Theme, classes: string[], means: Float64Array): ChartConfiguration {
  const datasets = classes.map((c, k) => ({
    label: c,
    data: [{ x: means[2 * k], y: means[2 * k + 1] }],
    backgroundColor: seriesColor(theme, k),
    borderColor: seriesColor(theme, k),
    pointRadius: 6,
  }));
  const options = baseOptions(theme, 'principal direction 1', 'principal direction 2') as Record<string, unknown>;
  const scales = options.scales as Record<string, Record<string, unknown>>;
  scales.x = { ...scales.x, type: 'linear' };
  return { type: 'scatter', data: { datasets }, options } as ChartConfiguration;
}

const fmt = (v: number) =>
  !Number.isFinite(v)
    ? '—'
    : v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4)
      ? v.toPrecision(4)
      : v.toExponential(3);

/** A table: one row per x label, one column per line (the numbers the charts draw). */
export function numbersTable(
  id: string,
  caption: string,
  xHeading: string,
  xLabels: string[],
  lines: Line[],
): HTMLTableElement {
  const table = el('table', { class: 'numbers', id });
  table.append(el('caption', {}, caption));
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, xHeading), ...lines.map((l) => el('th', { scope: 'col' }, l.label)));
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  xLabels.forEach((x, i) => {
    const tr = el('tr');
    tr.append(
      el('th', { scope: 'row' }, x),
      ...lines.map((l) => el('td', { class: 'num', title: String(l.values[i]) }, fmt(l.values[i]))),
    );
    body.append(tr);
  });
  table.append(thead, body);
  return table;
}
