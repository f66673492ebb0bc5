// Colours of the pages in the three default themes: chart series reach 3:1 (WCAG 1.4.11) against the
// backgrounds they are drawn on, status text and buttons reach 4.5:1, and the diverging map keeps small
// values visible on a dark neutral. The theme values are VS Code 1.100's defaults (the colour registry
// of workbench.js and extensions/theme-defaults/themes/*.json in code-server 4.100.3).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  contrastRatio,
  diverging,
  fadedSeries,
  neutralFor,
  parseColour,
  seriesPalette,
  type Rgb,
} from '../../webview/shared/colour';

interface ThemeColours {
  editor: string;
  widget: string;
  description: string;
  charts: string[]; // blue, orange, green, purple, red, yellow (theme.ts order)
  button: { bg: string | null; fg: string; border: string | null };
}

const THEMES: Record<string, ThemeColours> = {
  'Default Dark Modern': {
    editor: '#1F1F1F',
    widget: '#202020',
    description: '#9D9D9D',
    charts: ['#3794FF', '#d18616', '#89D185', '#B180D7', '#F14C4C', '#CCA700'],
    button: { bg: '#0078D4', fg: '#FFFFFF', border: '#FFFFFF12' },
  },
  'Default Light Modern': {
    editor: '#FFFFFF',
    widget: '#F8F8F8',
    description: '#3B3B3B',
    charts: ['#1a85ff', '#d18616', '#388A34', '#652D90', '#E51400', '#BF8803'],
    button: { bg: '#005FB8', fg: '#FFFFFF', border: '#0000001a' },
  },
  'Default High Contrast': {
    editor: '#000000',
    widget: '#0C141F',
    description: '#FFFFFFB3', // foreground at 70%
    charts: ['#3794FF', '#AB5A00', '#89D185', '#B180D7', '#F48771', '#FFD370'],
    button: { bg: null, fg: '#FFFFFF', border: '#6FC3DF' }, // no background: the border is the button
  },
};

const rgb = (css: string, over?: Rgb): Rgb => {
  const c = parseColour(css, over);
  assert.ok(c, `unparsed ${css}`);
  return c;
};

test('parseColour reads the forms theme variables take and composites alpha', () => {
  assert.deepEqual(rgb('#fff'), [255, 255, 255]);
  assert.deepEqual(rgb('#1F1F1F'), [31, 31, 31]);
  assert.deepEqual(rgb('rgb(10, 20, 30)'), [10, 20, 30]);
  // #ffffff at alpha 0x80/255 over black: 255 * 128/255 = 128
  assert.deepEqual(rgb('#ffffff80', [0, 0, 0]), [128, 128, 128]);
  assert.deepEqual(rgb('rgba(255, 0, 0, 0.5)', [0, 0, 255]), [127.5, 0, 127.5]);
  assert.equal(parseColour('var(--x)'), null);
});

test('contrastRatio follows WCAG 2: 21 for black on white, 4.48 for #777 on white', () => {
  assert.equal(contrastRatio([0, 0, 0], [255, 255, 255]), 21);
  // #777: channel 119/255 -> linear ((0.4667 + 0.055) / 1.055)^2.4 = 0.1845; (1.05) / (0.2345) = 4.478
  assert.ok(Math.abs(contrastRatio(rgb('#777777'), [255, 255, 255]) - 4.478) < 0.005);
});

for (const [name, t] of Object.entries(THEMES)) {
  const bgs = [t.widget, t.editor];
  test(`${name}: every chart series and the faded raw curve reach 3:1 on the cards and the editor`, () => {
    const palette = seriesPalette(t.charts, bgs);
    assert.equal(palette.length, t.charts.length);
    for (const [i, c] of palette.entries()) {
      for (const bg of bgs) {
        const r = contrastRatio(rgb(c), rgb(bg));
        assert.ok(r >= 3, `${name} series ${i} ${c} on ${bg}: ${r.toFixed(2)}:1`);
      }
      // A theme colour that already reaches 3:1 is kept as it is.
      if (bgs.every((bg) => contrastRatio(rgb(t.charts[i]), rgb(bg)) >= 3)) {
        assert.deepEqual(rgb(c), rgb(t.charts[i]));
      }
    }
    const faded = fadedSeries(palette[0], bgs);
    for (const bg of bgs) assert.ok(contrastRatio(rgb(faded), rgb(bg)) >= 3, `${name} faded ${faded} on ${bg}`);
    assert.notEqual(faded, palette[0]);
  });

  test(`${name}: status text (descriptionForeground) reaches 4.5:1 and buttons are visible`, () => {
    for (const bg of bgs) {
      const text = rgb(t.description, rgb(bg));
      assert.ok(contrastRatio(text, rgb(bg)) >= 4.5, `${name} description on ${bg}`);
    }
    const surface = t.button.bg ? rgb(t.button.bg) : rgb(t.editor);
    assert.ok(contrastRatio(rgb(t.button.fg, surface), surface) >= 4.5, `${name} button label`);
    // The button's edge: its background against the page, or (High Contrast) its border.
    const edge = t.button.bg ? rgb(t.button.bg) : rgb(t.button.border!, rgb(t.editor));
    assert.ok(contrastRatio(edge, rgb(t.editor)) >= 3, `${name} button edge`);
  });
}

test('the raw defaults do fall short somewhere, so the lift is needed: orange on white, orange on HC black', () => {
  assert.ok(contrastRatio(rgb('#d18616'), rgb('#FFFFFF')) < 3);
  // The spike view drew the raw curve as blue at alpha 0x55 over Dark Modern's cards: about 1.7:1.
  const old = rgb('#3794FF55', rgb('#202020'));
  assert.ok(contrastRatio(old, rgb('#202020')) < 2);
});

test('the diverging map: sign by hue, and 5% of the scale already distinct from the neutral on dark and light', () => {
  for (const dark of [true, false]) {
    const n = neutralFor(dark);
    assert.deepEqual(diverging(0, n), n);
    const pos = diverging(1, n);
    const neg = diverging(-1, n);
    assert.ok(pos[0] > pos[2] && neg[2] > neg[0], 'red above zero, blue below');
    for (const t of [0.05, -0.05]) {
      const r = contrastRatio(diverging(t, n), n);
      // A linear map onto the old dark blue (40, 90, 200) gave 1.05:1 at -5% on (40, 40, 40).
      assert.ok(r >= 1.25, `${dark ? 'dark' : 'light'} t=${t}: ${r.toFixed(3)}:1`);
    }
    // Monotone in |t|: a larger value is never closer to the neutral.
    let last = 1;
    for (let i = 1; i <= 20; i++) {
      const r = contrastRatio(diverging(i / 20, n), n);
      assert.ok(r >= last - 1e-12);
      last = r;
    }
  }
});
