// Image-shaped vectors (diag(M), eigenvectors of M, an NFM diagonal over pixels) drawn as images: one
// canvas per tile at the data's own resolution, scaled up with pixelated sampling so each pixel stays a
// crisp square. c = 1: grey (low = dark) or, when signed, the diverging map of the heatmaps (blue < 0 <
// red, neutral matching the theme); c = 3: RGB normalised over the three channels; any other c: one
// tile per channel. Each tile is role="img" with its title and value range as its accessible name.
import { diverging, neutralFor, type Rgb } from './colour';
import { el } from './dom';
import { onThemeChange, readTheme } from './theme';

export interface ImageItem {
  title: string;
  /** Row-major C, H, W values (length c * h * w). */
  data: ArrayLike<number>;
  shape: readonly [number, number, number];
  /** Diverging map centred on 0 (eigenvectors); otherwise grey from min to max. */
  signed?: boolean;
}

export interface ImageGridOptions {
  /** CSS pixels per data pixel; default so the longer side is about 112 px. */
  scale?: number;
}

function range(data: ArrayLike<number>, from: number, to: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < to; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

const fmt = (v: number) =>
  v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(3) : v.toExponential(2);

/** Pixels of one tile: channels [first, first + n) of the item (n = 1 or 3). */
function pixels(
  item: ImageItem,
  first: number,
  n: 1 | 3,
  dark: boolean,
): { rgba: Uint8ClampedArray<ArrayBuffer>; lo: number; hi: number } {
  const [, h, w] = item.shape;
  const plane = h * w;
  const [lo, hi] = range(item.data, first * plane, (first + n) * plane);
  const rgba = new Uint8ClampedArray(plane * 4);
  const neutral = neutralFor(dark);
  const span = hi - lo || 1;
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  for (let p = 0; p < plane; p++) {
    let rgb: Rgb;
    if (n === 3) {
      rgb = [0, 1, 2].map((ch) => ((item.data[(first + ch) * plane + p] - lo) / span) * 255) as unknown as Rgb;
    } else {
      const v = item.data[first * plane + p];
      if (item.signed) rgb = diverging(v / maxAbs, neutral);
      else {
        const g = ((v - lo) / span) * 255;
        rgb = [g, g, g];
      }
    }
    rgba.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
  }
  return { rgba, lo, hi };
}

interface Tile {
  item: ImageItem;
  first: number;
  n: 1 | 3;
  title: string;
}

function tilesOf(items: readonly ImageItem[]): Tile[] {
  const out: Tile[] = [];
  for (const item of items) {
    const [c, h, w] = item.shape;
    if (!(c >= 1 && h >= 1 && w >= 1) || item.data.length < c * h * w) {
      throw new Error(`image "${item.title}": ${item.data.length} values do not fill shape ${c}x${h}x${w}`);
    }
    if (c === 1 || c === 3) out.push({ item, first: 0, n: c, title: item.title });
    else for (let ch = 0; ch < c; ch++) out.push({ item, first: ch, n: 1, title: `${item.title} · channel ${ch}` });
  }
  return out;
}

function draw(grid: HTMLElement, tiles: Tile[], opts: ImageGridOptions): void {
  const dark = readTheme().dark;
  grid.replaceChildren();
  for (const t of tiles) {
    const [, h, w] = t.item.shape;
    const scale = opts.scale ?? Math.max(1, Math.floor(112 / Math.max(h, w)));
    const { rgba, lo, hi } = pixels(t.item, t.first, t.n, dark);
    const canvas = el('canvas', {
      role: 'img',
      class: 'image-tile',
      'aria-label': `${t.title}: ${h}×${w} image, values ${fmt(lo)} to ${fmt(hi)}${t.item.signed && t.n === 1 ? ' (blue negative, red positive)' : ''}`,
    });
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = `${w * scale}px`;
    canvas.style.height = `${h * scale}px`;
    canvas.style.imageRendering = 'pixelated';
    canvas.getContext('2d')?.putImageData(new ImageData(rgba, w, h), 0, 0);
    const legend =
      t.item.signed && t.n === 1 ? `±${fmt(Math.max(Math.abs(lo), Math.abs(hi)))}` : `${fmt(lo)} … ${fmt(hi)}`;
    const fig = el('figure', { class: 'image-cell' });
    fig.append(canvas, el('figcaption', {}, t.title), el('div', { class: 'image-range' }, legend));
    grid.append(fig);
  }
  grid.dataset.ready = '1';
}

const live = new Map<HTMLElement, () => void>();
let watching = false;

/**
 * Replaces `parent`'s content with a grid of the items as images and returns the grid. The grid redraws
 * itself when the theme changes (the neutral of the signed map follows it) for as long as it is in the page.
 */
export function renderImageGrid(
  parent: HTMLElement,
  items: readonly ImageItem[],
  opts: ImageGridOptions = {},
): HTMLElement {
  const tiles = tilesOf(items);
  for (const g of live.keys()) if (!g.isConnected) live.delete(g);
  const grid = el('div', { class: 'image-grid' });
  parent.replaceChildren(grid);
  draw(grid, tiles, opts);
  live.set(grid, () => draw(grid, tiles, opts));
  if (!watching) {
    watching = true;
    onThemeChange(() => {
      for (const [g, redraw] of live) {
        if (g.isConnected) redraw();
        else live.delete(g);
      }
    });
  }
  return grid;
}
