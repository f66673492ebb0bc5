// The feature matrix as a heatmap on a plain canvas (chart.js has no matrix chart): names on both
// axes, a diverging colour scale centred on 0, and the exact value of the cell under the pointer.
import { contrastRatio, diverging, neutralFor, toCss, type Rgb } from './colour';
import type { Theme } from './theme';

export interface HeatmapData {
  /** k x k row-major values (rows x k with `rowNames`); a NaN cell is left blank. */
  values: Float64Array;
  names: string[];
  /** Names of the rows of a rectangular map (`names` then names the columns). */
  rowNames?: string[];
  /** |value| mapped to full colour; default the map's own largest |value| (a shared scale across maps). */
  scale?: number;
  /** Name in the hover text (default M). */
  label?: string;
}

/** Blue for negative, neutral at 0, red for positive (colour.ts diverging: small values stay visible). */
function cellColour(v: number, max: number, neutral: Rgb): Rgb {
  return diverging(max > 0 ? v / max : 0, neutral);
}

/** Black or white, whichever reads better on the cell. */
function textOn(cell: Rgb): string {
  return contrastRatio(cell, [0, 0, 0]) >= contrastRatio(cell, [255, 255, 255]) ? '#000000' : '#ffffff';
}

export class Heatmap {
  private data: HeatmapData | null = null;
  private layout = { left: 0, top: 0, cell: 0, k: 0, rows: 0 };

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly tip: HTMLElement,
    private theme: () => Theme,
  ) {
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => (this.tip.hidden = true));
  }

  set(data: HeatmapData | null): void {
    this.data = data;
    this.draw();
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const th = this.theme();
    const width = Math.max(260, this.canvas.parentElement?.clientWidth ?? 400);
    const k = this.data?.names.length ?? 0;
    const rowNames = this.data?.rowNames ?? this.data?.names ?? [];
    const rows = k ? rowNames.length : 0;
    const font = `${Math.max(9, Math.min(12, Math.floor(260 / Math.max(k, rows, 1))))}px ${th.fontFamily}`;
    ctx.font = font;
    const labelW = k
      ? Math.min(160, Math.max(...[...this.data!.names, ...rowNames].map((n) => ctx.measureText(n).width)) + 8)
      : 0;
    // Cells stay between 4 px (hundreds of features) and 56 px (a handful) so the map stays square-ish.
    const cell = k ? Math.max(4, Math.min(56, Math.floor((width - labelW - 8) / k))) : 0;
    const height = labelW + cell * rows + 8;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    this.layout = { left: labelW, top: labelW, cell, k, rows };
    if (!this.data || !k) return;
    const { values, names } = this.data;
    let max = 0;
    for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
    if (this.data.scale !== undefined && this.data.scale > 0) max = this.data.scale;
    const neutral = neutralFor(th.dark);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < k; j++) {
        if (!Number.isFinite(values[i * k + j])) continue;
        ctx.fillStyle = toCss(cellColour(values[i * k + j], max, neutral));
        ctx.fillRect(labelW + j * cell, labelW + i * cell, cell, cell);
      }
    }
    ctx.textBaseline = 'middle';
    if (cell >= 44) {
      // Few features: print each value in its cell (text colour by cell brightness, not by theme).
      ctx.textAlign = 'center';
      ctx.font = `10px ${th.fontFamily}`;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < k; j++) {
          const v = values[i * k + j];
          if (!Number.isFinite(v)) continue;
          ctx.fillStyle = textOn(cellColour(v, max, neutral));
          ctx.fillText(v.toPrecision(2), labelW + (j + 0.5) * cell, labelW + (i + 0.5) * cell);
        }
      }
    }
    ctx.fillStyle = th.foreground;
    ctx.font = font;
    const fits = (s: string) => {
      let t = s;
      while (t.length > 3 && ctx.measureText(t).width > labelW - 8) t = t.slice(0, -2);
      return t === s ? s : t + '…';
    };
    if (cell >= 7) {
      ctx.textAlign = 'right';
      rowNames.forEach((n, i) => ctx.fillText(fits(n), labelW - 4, labelW + (i + 0.5) * cell));
      ctx.save();
      ctx.textAlign = 'left';
      names.forEach((n, j) => {
        ctx.save();
        ctx.translate(labelW + (j + 0.5) * cell, labelW - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.fillText(fits(n), 0, 0);
        ctx.restore();
      });
      ctx.restore();
    }
    this.canvas.dataset.ready = '1';
  }

  private hover(e: MouseEvent): void {
    const { left, top, cell, k, rows } = this.layout;
    if (!this.data || !cell) return;
    const r = this.canvas.getBoundingClientRect();
    const j = Math.floor((e.clientX - r.left - left) / cell);
    const i = Math.floor((e.clientY - r.top - top) / cell);
    if (i < 0 || j < 0 || i >= rows || j >= k) {
      this.tip.hidden = true;
      return;
    }
    const v = this.data.values[i * k + j];
    const row = (this.data.rowNames ?? this.data.names)[i];
    this.tip.textContent = `${this.data.label ?? 'M'}[${row}, ${this.data.names[j]}] = ${Number.isFinite(v) ? v.toPrecision(5) : 'none'}`;
    this.tip.hidden = false;
    this.tip.style.left = `${e.clientX - r.left + 12}px`;
    this.tip.style.top = `${e.clientY - r.top + 12}px`;
  }
}
