// The sklearn fixture CSVs (last column = class label) as a classification Dataset. No Node imports:
// the headless-Chromium page (browser/page.ts) parses the same text as the Node GPU tests.
import type { Dataset } from '../../src/core/data/dataset';
import { mat } from '../../src/core/mat';

export function parseClassCsv(text: string, source: string): Dataset {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const d = header.length - 1;
  const rows = lines.slice(1).map((l) => l.split(','));
  const classes = [...new Set(rows.map((r) => r[d]))].sort();
  const X = new Float64Array(rows.length * d);
  const y = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) X[i * d + j] = Number(r[j]);
    y[i] = classes.indexOf(r[d]);
  });
  return {
    source,
    X: mat(rows.length, d, X),
    featureNames: header.slice(0, d),
    y,
    targetName: header[d],
    task: 'classification',
    classes,
  };
}
