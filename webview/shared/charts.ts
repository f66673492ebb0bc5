// chart.js for every page: registered once, coloured from the VS Code theme (re-read on theme change by
// the page, which then redraws), and a ChartSet that owns a page's charts by id and exports them as PNGs.
import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import type { Theme } from './theme';

Chart.register(...registerables);

export { Chart, type ChartConfiguration };

/** An axis coloured for the theme; `log` for a logarithmic scale. */
export function themedAxis(theme: Theme, title: string, log = false): Record<string, unknown> {
  return {
    type: log ? 'logarithmic' : 'linear',
    ticks: { color: theme.muted },
    grid: { color: theme.grid },
    title: { display: !!title, text: title, color: theme.muted },
  };
}

/** Options every Feature Lens chart shares: no animation (live curves), theme colours and font. */
export function baseOptions(theme: Theme, x: string, y: string, logY = false): ChartConfiguration['options'] {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    color: theme.foreground,
    font: { family: theme.fontFamily },
    plugins: { legend: { labels: { color: theme.foreground } }, tooltip: { enabled: true } },
    scales: { x: { ...themedAxis(theme, x), type: 'category' }, y: themedAxis(theme, y, logY) },
  } as ChartConfiguration['options'];
}

/** The i-th series colour of the theme. */
export function seriesColor(theme: Theme, i: number): string {
  return theme.series[i % theme.series.length];
}

/** A page's charts by id: set() replaces a chart, pngs() flattens each onto the editor background. */
export class ChartSet<Id extends string = string> {
  private readonly charts = new Map<Id, Chart>();

  constructor(private readonly canvasOf: (id: Id) => HTMLCanvasElement) {}

  set(id: Id, config: ChartConfiguration): Chart {
    this.charts.get(id)?.destroy();
    const canvas = this.canvasOf(id);
    Chart.defaults.color = (config.options as { color?: string } | undefined)?.color ?? Chart.defaults.color;
    const chart = new Chart(canvas, config);
    this.charts.set(id, chart);
    canvas.dataset.ready = '1';
    return chart;
  }

  get(id: Id): Chart | undefined {
    return this.charts.get(id);
  }

  destroy(id?: Id): void {
    for (const [k, c] of this.charts) {
      if (id !== undefined && k !== id) continue;
      c.destroy();
      this.charts.delete(k);
    }
  }

  /**
   * PNGs of the drawn charts, and of `extra` canvases drawn otherwise (a heatmap). Charts are drawn on a
   * transparent canvas; a PNG viewer would show theme-coloured text on its own background, so each is
   * flattened onto the editor background.
   */
  async pngs(
    theme: Theme,
    extra: Record<string, HTMLCanvasElement> = {},
  ): Promise<{ name: string; png: ArrayBuffer }[]> {
    const out: { name: string; png: ArrayBuffer }[] = [];
    const bg =
      getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() ||
      (theme.dark ? '#1e1e1e' : '#ffffff');
    const canvases: [string, HTMLCanvasElement][] = [
      ...[...this.charts].map(([name, chart]): [string, HTMLCanvasElement] => [name, chart.canvas]),
      ...Object.entries(extra),
    ];
    for (const [name, canvas] of canvases) {
      const flat = document.createElement('canvas');
      flat.width = canvas.width;
      flat.height = canvas.height;
      const g = flat.getContext('2d')!;
      g.fillStyle = bg;
      g.fillRect(0, 0, flat.width, flat.height);
      g.drawImage(canvas, 0, 0);
      const blob = await new Promise<Blob | null>((r) => flat.toBlob(r, 'image/png'));
      if (blob) out.push({ name, png: await blob.arrayBuffer() });
    }
    return out;
  }
}
