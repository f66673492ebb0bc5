import Papa from 'papaparse';
import { LineLogReader, findStepName, parseNumber } from './lines';
import type { LogProblem, LogReader, PushResult, ScalarPoint } from './types';

/**
 * CSV logs: PyTorch Lightning's metrics.csv (sparse: each row fills only the metrics logged at that
 * step) and any table with a header. The step is the step-like column (see STEP_NAMES), else the
 * 0-based data row index. Lines are parsed one at a time so a damaged line costs only itself.
 */
export class CsvLogReader extends LineLogReader implements LogReader {
  readonly kind = 'csv' as const;
  private header: string[] | undefined;
  private delimiter = ',';
  private stepIndex = -1;
  private dataRow = 0;

  get stepSource(): string {
    return this.stepIndex >= 0 && this.header ? this.header[this.stepIndex] : 'row index';
  }

  private splitLine(line: string): string[] {
    if (!line.includes('"')) return line.split(this.delimiter);
    const parsed = Papa.parse<string[]>(line, { delimiter: this.delimiter, header: false });
    return parsed.data[0] ?? [];
  }

  protected read(lines: string[], firstLine: number): PushResult {
    const points: ScalarPoint[] = [];
    const problems: LogProblem[] = [];
    for (let k = 0; k < lines.length; k++) {
      const line = firstLine + k;
      const text = k === 0 && line === 1 ? lines[k].replace(/^\uFEFF/, '') : lines[k];
      if (text.trim() === '') continue;
      if (!this.header) {
        const guess = Papa.parse<string[]>(text, { header: false });
        this.delimiter = guess.meta.delimiter || ',';
        this.header = (guess.data[0] ?? []).map((h) => h.trim());
        const step = findStepName(this.header);
        this.stepIndex = step === undefined ? -1 : this.header.indexOf(step);
        continue;
      }
      const row = this.dataRow++;
      const cells = this.splitLine(text);
      if (cells.length !== this.header.length) {
        if (cells.map((c) => c.trim()).join('\u0000') === this.header.join('\u0000')) continue; // a repeated header (appended runs)
        problems.push({
          line,
          message: `line ${line}: expected ${this.header.length} fields (${this.header.join(this.delimiter)}), got ${cells.length}; skipped`,
        });
        continue;
      }
      let step = row;
      if (this.stepIndex >= 0) {
        const s = parseNumber(cells[this.stepIndex]);
        if (s === undefined || !Number.isFinite(s)) {
          problems.push({
            line,
            message: `line ${line}: step column '${this.header[this.stepIndex]}' holds '${cells[this.stepIndex]}', expected a number; skipped`,
          });
          continue;
        }
        step = s;
      }
      for (let c = 0; c < cells.length; c++) {
        if (c === this.stepIndex || this.header[c] === '') continue; // pandas' unnamed index column
        const value = parseNumber(cells[c]);
        if (value === undefined) continue; // sparse cell, or a text column (timestamps, run names)
        const tag = this.header[c];
        this.noteTag(tag);
        points.push({ tag, step, value });
      }
    }
    return { points, problems };
  }
}
