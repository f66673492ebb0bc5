import { LineLogReader, STEP_NAMES, parseNumber } from './lines';
import type { LogProblem, LogReader, PushResult, ScalarPoint } from './types';

// Python's json.dumps writes NaN and Infinity bare, which JSON.parse rejects; quote them and map back.
const BARE_NONFINITE = /([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g;

function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, number>, depth: number): void {
  for (const [key, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}/${key}` : key;
    if (typeof v === 'number') out.set(name, v);
    else if (typeof v === 'string') {
      const n = v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? parseNumber(v) : undefined;
      if (n !== undefined) out.set(name, n);
    } else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 4)
      flatten(v as Record<string, unknown>, name, out, depth + 1);
  }
}

/**
 * JSON Lines logs: one object per line, numeric fields become tags (nested objects joined with '/').
 * The step is the first step-like key (see STEP_NAMES) of the first line that has one, else the
 * 0-based index of the non-empty line.
 */
export class JsonlLogReader extends LineLogReader implements LogReader {
  readonly kind = 'jsonl' as const;
  private dataRow = 0;
  private stepKey: string | undefined;
  private lastStep: number | undefined;

  get stepSource(): string {
    return this.stepKey ?? 'row index';
  }

  protected read(lines: string[], firstLine: number): PushResult {
    const points: ScalarPoint[] = [];
    const problems: LogProblem[] = [];
    for (let k = 0; k < lines.length; k++) {
      const line = firstLine + k;
      const text = lines[k];
      if (text.trim() === '') continue;
      const row = this.dataRow++;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        try {
          obj = JSON.parse(text.replace(BARE_NONFINITE, '$1"$2"'));
        } catch {
          problems.push({
            line,
            message: `line ${line}: not valid JSON (${e instanceof Error ? e.message : String(e)}); skipped`,
          });
          continue;
        }
      }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        problems.push({
          line,
          message: `line ${line}: expected a JSON object, got ${Array.isArray(obj) ? 'an array' : typeof obj}; skipped`,
        });
        continue;
      }
      const fields = new Map<string, number>();
      flatten(obj as Record<string, unknown>, '', fields, 0);
      let step = row;
      if (this.stepKey === undefined) this.stepKey = STEP_NAMES.find((n) => fields.has(n));
      if (this.stepKey !== undefined) {
        // A line without the step key (an epoch-end record, say) belongs to the latest step seen.
        const own = fields.get(this.stepKey);
        step = own !== undefined && Number.isFinite(own) ? own : (this.lastStep ?? row);
        fields.delete(this.stepKey);
        this.lastStep = step;
      }
      for (const [tag, value] of fields) {
        this.noteTag(tag);
        points.push({ tag, step, value });
      }
    }
    return { points, problems };
  }
}
