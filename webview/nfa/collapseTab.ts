// The NFA view's Neural Collapse tab: NC1 (log) and NC2 per layer on the training rows and the held-out
// rows, the class means of one layer (chosen with a slider) on their top-2 principal directions, and
// the numbers as a table.
import type { WireCollapse } from '../../src/protocol/collapse';
import { ChartSet } from '../shared/charts';
import { chartCard, el } from '../shared/dom';
import type { Theme } from '../shared/theme';
import { lineChart, meansChart, ncLines, numbersTable, type Line } from './collapseCharts';

export interface CollapseTab {
  readonly element: HTMLElement;
  set(collapse: WireCollapse | null, note: string | null): void;
  draw(): void;
}

export function createCollapseTab(theme: () => Theme, copy: (text: string) => void): CollapseTab {
  const section = el('section', { class: 'grid', id: 'collapse', role: 'tabpanel', 'aria-labelledby': 'tab-collapse' });
  const note = el('p', { class: 'status', id: 'collapse-note' }, '');
  const nc1 = chartCard('collapse-nc1', 'NC1 = tr Σ_W / tr Σ_B per layer (log scale)');
  const nc2 = chartCard('collapse-nc2', 'NC2: distance of the class-mean Gram from the simplex ETF, per layer');
  const means = chartCard('collapse-means', 'Class means on their top-2 principal directions');
  const slider = el('input', { id: 'collapse-layer', type: 'range', min: '0', max: '0', value: '0', step: '1' });
  const sliderLabel = el('label', { for: 'collapse-layer', id: 'collapse-layer-label' }, 'Layer');
  const sliderRow = el('div', { class: 'controls' });
  sliderRow.append(sliderLabel, slider);
  means.card.insertBefore(sliderRow, means.card.children[1]);
  const numbers = el('section', { class: 'card wide', id: 'card-collapse-numbers' });
  const copyJson = el('button', { id: 'collapse-copy-json', class: 'secondary' }, 'Copy collapse report as JSON');
  section.append(note, nc1.card, nc2.card, means.card, numbers);
  const charts = new ChartSet<'nc1' | 'nc2' | 'means'>((id) =>
    id === 'nc1' ? nc1.canvas : id === 'nc2' ? nc2.canvas : means.canvas,
  );
  let shown: WireCollapse | null = null;

  const drawMeans = () => {
    if (!shown) return;
    const i = Math.min(Number(slider.value) || 0, shown.layers.length - 1);
    const l = shown.layers[i];
    sliderLabel.textContent = `Layer: ${l.name}`;
    slider.setAttribute('aria-valuetext', l.name);
    const heading = means.card.querySelector('h3')!;
    heading.textContent = `Class means of ${l.name} (training rows) on their top-2 principal directions`;
    means.canvas.setAttribute('aria-label', heading.textContent);
    charts.set('means', meansChart(theme(), shown.classes, new Float64Array(l.means2d)));
  };
  slider.addEventListener('input', drawMeans);
  copyJson.addEventListener('click', () => shown && copy(shown.report));

  const draw = () => {
    if (!shown) return;
    const x = shown.layers.map((l) => l.name);
    const held = shown.layers.some((l) => l.test);
    const series = [
      { label: 'train', values: shown.layers, colour: 0 },
      ...(held
        ? [
            {
              label: 'held-out',
              values: shown.layers.map((l) => l.test ?? { nc1: NaN, nc1Classic: NaN, nc2: NaN }),
              colour: 1,
              dashed: true,
            },
          ]
        : []),
    ];
    const one = ncLines(series, 'nc1');
    const classic = ncLines(series, 'nc1Classic');
    const two = ncLines(series, 'nc2');
    charts.set('nc1', lineChart(theme(), x, one, 'layer', 'NC1', true));
    charts.set('nc2', lineChart(theme(), x, two, 'layer', 'NC2', false));
    drawMeans();
    const label = (p: string) => (l: Line) => ({ ...l, label: `${p} ${l.label}` });
    numbers.replaceChildren(
      el('h3', {}, 'Numbers per layer'),
      numbersTable('collapse-table', 'NC1, classic NC1 (tr Σ_W Σ_B⁺ / K) and NC2 per layer', 'layer', x, [
        ...one.map(label('NC1')),
        ...classic.map(label('NC1 classic')),
        ...two.map(label('NC2')),
      ]),
      copyJson,
    );
  };

  return {
    element: section,
    set(collapse, why) {
      shown = collapse;
      for (const c of [nc1.card, nc2.card, means.card, numbers]) c.hidden = !collapse;
      note.textContent = collapse
        ? `${collapse.classes.length} classes · ${collapse.heldOut ? `held-out: ${collapse.heldOut}` : 'no held-out data (choose it in the form)'} · ${collapse.device}`
        : `No neural-collapse study for this view: ${why ?? 'not computed'}`;
      if (!collapse) return;
      slider.max = String(collapse.layers.length - 1);
      slider.value = String(collapse.layers.length - 1);
    },
    draw,
  };
}
