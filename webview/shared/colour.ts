// Colour arithmetic the pages share, free of the DOM so unit tests reach it: parsing the CSS colours
// the theme variables hold, WCAG contrast ratios, the diverging colour map of heatmaps and images, and
// series colours that keep 3:1 against the chart's background in every theme.

export type Rgb = readonly [number, number, number];

/** #rgb, #rgba, #rrggbb, #rrggbbaa or rgb()/rgba(); alpha is composited over `over` (default white). */
export function parseColour(css: string, over: Rgb = [255, 255, 255]): Rgb | null {
  const s = css.trim().toLowerCase();
  let rgba: number[] | null = null;
  const hex = /^#([0-9a-f]{3,8})$/.exec(s);
  if (hex) {
    const h = hex[1];
    if (h.length === 3 || h.length === 4) rgba = [...h].map((c) => parseInt(c + c, 16));
    else if (h.length === 6 || h.length === 8) rgba = (h.match(/../g) ?? []).map((c) => parseInt(c, 16));
    if (rgba && rgba.length === 4) rgba[3] /= 255;
  }
  const fn = /^rgba?\(([^)]+)\)$/.exec(s);
  if (fn) {
    const parts = fn[1].split(/[\s,/]+/).filter(Boolean);
    rgba = parts.map((p, i) => (p.endsWith('%') ? (parseFloat(p) / 100) * (i < 3 ? 255 : 1) : parseFloat(p)));
  }
  if (!rgba || rgba.length < 3 || rgba.some((x) => !Number.isFinite(x))) return null;
  const a = rgba.length > 3 ? Math.max(0, Math.min(1, rgba[3])) : 1;
  return [0, 1, 2].map((i) => rgba![i] * a + over[i] * (1 - a)) as unknown as Rgb;
}

export function toCss([r, g, b]: Rgb): string {
  return `#${[r, g, b]
    .map((x) =>
      Math.round(Math.max(0, Math.min(255, x)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** WCAG 2 relative luminance of an sRGB colour (0..255 channels). */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const x = c / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG 2 contrast ratio, 1 (same) to 21 (black on white). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/**
 * `colour` itself when it reaches `ratio` against `background`, else the least mix of it towards white
 * (dark background) or black (light one) that does: the hue stays recognisable, the line stays visible.
 */
export function withContrast(colour: Rgb, background: Rgb, ratio: number): Rgb {
  if (contrastRatio(colour, background) >= ratio) return colour;
  const target: Rgb = luminance(background) < 0.18 ? [255, 255, 255] : [0, 0, 0];
  // Rounded to whole channels as CSS will, so the ratio still holds after toCss.
  const at = (t: number): Rgb => mix(colour, target, t).map(Math.round) as unknown as Rgb;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    if (contrastRatio(at(mid), background) >= ratio) hi = mid;
    else lo = mid;
  }
  return at(hi);
}

/** WCAG 1.4.11: graphical objects (chart lines, markers) need 3:1 against what is next to them. */
export const SERIES_CONTRAST = 3;

/**
 * Series colours for a chart on `background`: the theme's chart colours (--vscode-charts-*) in order,
 * each lifted to 3:1 when the theme's own value falls short (orange on white, blue on dark grey), so
 * every series is visible in Dark, Light and High Contrast themes alike.
 */
export function seriesPalette(candidates: readonly string[], backgrounds: readonly string[]): string[] {
  const bgs = backgrounds.map((b) => parseColour(b)).filter((b): b is Rgb => b !== null);
  return candidates.map((c) => {
    let rgb = parseColour(c, bgs[0]);
    if (!rgb) return c;
    for (const bg of bgs) rgb = withContrast(rgb, bg, SERIES_CONTRAST);
    return toCss(rgb);
  });
}

/**
 * A quieter variant of a series colour (the raw curve under a smoothed one): half way to the
 * background, then back up to 3:1 against every background, so it recedes but stays visible.
 */
export function fadedSeries(colour: string, backgrounds: readonly string[]): string {
  const bgs = backgrounds.map((b) => parseColour(b)).filter((b): b is Rgb => b !== null);
  let rgb = parseColour(colour, bgs[0]);
  if (!rgb || !bgs.length) return colour;
  rgb = mix(rgb, bgs[0], 0.5);
  for (const bg of bgs) rgb = withContrast(rgb, bg, SERIES_CONTRAST);
  return toCss(rgb);
}

/**
 * The diverging map of heatmaps and images: t in [-1, 1], blue below 0, red above, `neutral` at 0.
 * |t| goes through a square root so small values are already a visible tint (1% of the scale is 10% of
 * the way to full colour); on a dark neutral the ends are light enough that every non-zero cell is
 * lighter than the background, rather than a dark blue that vanishes into it.
 */
export function diverging(t: number, neutral: Rgb): Rgb {
  const x = Number.isFinite(t) ? Math.max(-1, Math.min(1, t)) : 0;
  const dark = luminance(neutral) < 0.18;
  const pos: Rgb = dark ? [255, 96, 80] : [178, 24, 43];
  const neg: Rgb = dark ? [80, 160, 255] : [33, 102, 172];
  const s = Math.sqrt(Math.abs(x));
  return mix(neutral, x >= 0 ? pos : neg, s);
}

/** The neutral (zero) colour of the diverging map: near the page's background, so 0 reads as "nothing". */
export function neutralFor(dark: boolean): Rgb {
  return dark ? [38, 38, 38] : [247, 247, 247];
}
