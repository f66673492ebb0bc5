// Colours come from the workbench's --vscode-* variables so charts follow light, dark and
// high-contrast themes; they are re-read whenever the body's theme class changes. Series colours are the
// theme's chart colours lifted to 3:1 against the backgrounds charts are drawn on (colour.ts).
import { fadedSeries, seriesPalette } from './colour';

export interface Theme {
  dark: boolean;
  highContrast: boolean;
  foreground: string;
  muted: string;
  grid: string;
  fontFamily: string;
  /** The backgrounds charts sit on: the cards' widget background and the editor's. */
  backgrounds: string[];
  /** Series colours, each at least 3:1 against every background. */
  series: string[];
  /** A receding variant of series[0] for raw curves under a smoothed one, still 3:1. */
  seriesFaded: string;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): Theme {
  const cls = document.body.classList;
  const highContrast = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light');
  const dark = cls.contains('vscode-dark') || cls.contains('vscode-high-contrast');
  const fg = cssVar('--vscode-foreground', dark ? '#cccccc' : '#333333');
  const editorBg = cssVar('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff');
  const backgrounds = [cssVar('--vscode-editorWidget-background', editorBg), editorBg];
  const series = seriesPalette(
    [
      cssVar('--vscode-charts-blue', '#3794ff'),
      cssVar('--vscode-charts-orange', '#d18616'),
      cssVar('--vscode-charts-green', '#89d185'),
      cssVar('--vscode-charts-purple', '#b180d7'),
      cssVar('--vscode-charts-red', '#f14c4c'),
      cssVar('--vscode-charts-yellow', '#cca700'),
    ],
    backgrounds,
  );
  return {
    dark,
    highContrast,
    foreground: fg,
    muted: cssVar('--vscode-descriptionForeground', fg),
    grid: highContrast
      ? cssVar('--vscode-contrastBorder', fg)
      : cssVar('--vscode-editorWidget-border', dark ? '#444444' : '#dddddd'),
    fontFamily: cssVar('--vscode-font-family', 'sans-serif'),
    backgrounds,
    series,
    seriesFaded: fadedSeries(series[0], backgrounds),
  };
}

export function onThemeChange(fn: () => void): void {
  new MutationObserver(fn).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
