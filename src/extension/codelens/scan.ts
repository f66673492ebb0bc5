// Finds, in Python source, the paths a CodeLens can act on: logs a script writes (Watch Loss Spikes),
// datasets (Fit RFM) and weights (Inspect Weights). Pure text work, no vscode: unit-tested directly.

export type PathLensKind = 'spikes' | 'dataset' | 'weights';

export interface PathLens {
  kind: PathLensKind;
  /** 0-based line the lens sits above: the call for logs, the string literal for datasets and weights. */
  line: number;
  /** The path as written in the source (relative paths are resolved by the caller). */
  path: string;
  /** The path names a folder of runs (SummaryWriter's log_dir, Lightning's save_dir/name). */
  folder: boolean;
  /** What wrote the log: 'SummaryWriter', 'CSVLogger', 'open'; the literal for datasets and weights. */
  source: string;
}

export interface ScanOptions {
  /** With the dot, lower case: '.csv', '.parquet', ... */
  datasetExtensions: readonly string[];
  weightExtensions: readonly string[];
}

export const DEFAULT_WEIGHT_EXTENSIONS = ['.safetensors', '.pt', '.pth', '.npz'];
const LOG_FILE = /\.(csv|tsv|jsonl|ndjson)$/i;

interface Literal {
  value: string;
  /** An f-string with placeholders: the path is not known until run time. */
  dynamic: boolean;
  start: number;
}

/** Stands where a string literal was in the masked source (a character Python source never holds). */
const LITERAL_MARK = '\u0001';

/**
 * The source with comments blanked and each string literal replaced by \u0001 plus spaces (offsets and
 * newlines kept, so brackets inside strings do not count and positions map back to lines).
 */
function mask(text: string): { masked: string; literals: Map<number, Literal> } {
  const out = text.split('');
  const literals = new Map<number, Literal>();
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '#') {
      while (i < text.length && text[i] !== '\n') out[i++] = ' ';
      continue;
    }
    if (ch === '"' || ch === "'") {
      // Prefix letters (r, b, f, u, rb, fr, ...) just before the quote.
      let p = i;
      while (p > 0 && /[rRbBuUfF]/.test(text[p - 1]) && i - p < 2) p--;
      if (p > 0 && /[\w]/.test(text[p - 1])) p = i; // part of an identifier, not a prefix
      const prefix = text.slice(p, i).toLowerCase();
      const triple = text.startsWith(ch.repeat(3), i);
      const q = triple ? ch.repeat(3) : ch;
      let j = i + q.length;
      let value = '';
      while (j < text.length && !text.startsWith(q, j)) {
        if (!triple && text[j] === '\n') break; // unterminated: stop at the line end
        if (text[j] === '\\' && !prefix.includes('r') && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
          continue;
        }
        value += text[j++];
      }
      const end = Math.min(text.length, text.startsWith(q, j) ? j + q.length : j);
      for (let k = p; k < end; k++) if (out[k] !== '\n') out[k] = ' ';
      out[p] = LITERAL_MARK;
      if (!triple)
        literals.set(p, {
          value: prefix.includes('r') ? text.slice(i + 1, j) : value,
          dynamic: prefix.includes('f') && /\{[^{]/.test(value),
          start: p,
        });
      i = end;
      continue;
    }
    i++;
  }
  return { masked: out.join(''), literals };
}

interface Arg {
  keyword: string | undefined;
  literal: Literal | undefined;
  present: boolean;
  raw: string;
}

/** Arguments of the call whose '(' is at `open` in the masked text, split at top-level commas. */
function callArgs(masked: string, literals: Map<number, Literal>, open: number): Arg[] {
  const args: Arg[] = [];
  let depth = 0,
    from = open + 1;
  const take = (a: number, b: number) => {
    const raw = masked.slice(a, b);
    const kw = /^\s*([A-Za-z_]\w*)\s*=(?!=)/.exec(raw);
    const rest = kw ? raw.slice(kw[0].length) : raw;
    const lit =
      rest.trim() === LITERAL_MARK ? literals.get(a + (kw ? kw[0].length : 0) + rest.indexOf(LITERAL_MARK)) : undefined;
    args.push({ keyword: kw?.[1], literal: lit, present: raw.trim().length > 0, raw: rest.trim() });
  };
  for (let i = open; i < masked.length; i++) {
    const c = masked[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        take(from, i);
        break;
      }
    } else if (c === ',' && depth === 1) {
      take(from, i);
      from = i + 1;
    }
  }
  return args.filter((a) => a.present);
}

function arg(args: Arg[], position: number, keyword: string): Arg | undefined {
  const kw = args.find((a) => a.keyword === keyword);
  if (kw) return kw;
  const positional = args.filter((a) => a.keyword === undefined);
  return positional[position];
}

const usable = (a: Arg | undefined): a is Arg & { literal: Literal } =>
  !!a?.literal && !a.literal.dynamic && a.literal.value.length > 0;
const join = (...parts: string[]) =>
  parts
    .filter((p) => p.length > 0)
    .join('/')
    .replace(/\/+/g, '/');

export function scanPythonPaths(text: string, options: ScanOptions): PathLens[] {
  const { masked, literals } = mask(text);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0,
      hi = lineStarts.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1;
      if (lineStarts[m] <= offset) lo = m;
      else hi = m - 1;
    }
    return lo;
  };
  const out: PathLens[] = [];
  const usedForLogs = new Set<number>();
  const call = /\b(SummaryWriter|CSVLogger|open)\s*\(/g;
  for (let m; (m = call.exec(masked));) {
    const name = m[1];
    if (/\bdef\s+$/.test(masked.slice(Math.max(0, m.index - 16), m.index))) continue; // a definition, not a call
    const args = callArgs(masked, literals, m.index + m[0].length - 1);
    const line = lineOf(m.index + m[0].indexOf(name));
    if (name === 'SummaryWriter') {
      const dir = arg(args, 0, 'log_dir');
      // No log_dir: PyTorch writes runs/<date>_<host>/, so the newest run under runs/ is the one.
      if (!dir) out.push({ kind: 'spikes', line, path: 'runs', folder: true, source: name });
      else if (usable(dir)) {
        usedForLogs.add(dir.literal.start);
        out.push({ kind: 'spikes', line, path: dir.literal.value, folder: true, source: name });
      }
    } else if (name === 'CSVLogger') {
      const first = arg(args, 0, 'filename');
      if (usable(first) && LOG_FILE.test(first.literal.value)) {
        // Keras' CSVLogger(filename)
        usedForLogs.add(first.literal.start);
        out.push({ kind: 'spikes', line, path: first.literal.value, folder: false, source: name });
        continue;
      }
      // Lightning's CSVLogger(save_dir, name='lightning_logs', version=None) writes save_dir/name/version_N/metrics.csv.
      const saveDir = arg(args, 0, 'save_dir');
      if (!usable(saveDir)) continue;
      const runName = arg(args, 1, 'name');
      if (runName && !usable(runName)) continue;
      const version = arg(args, 2, 'version');
      let versionDir = '';
      if (version && usable(version)) versionDir = version.literal.value;
      else if (version && /^\d+$/.test(version.raw)) versionDir = `version_${version.raw}`;
      // any other version expression is known only at run time: the newest run under name/ stands for it
      for (const a of [saveDir, runName, version]) if (a?.literal) usedForLogs.add(a.literal.start);
      out.push({
        kind: 'spikes',
        line,
        path: join(saveDir.literal.value, runName ? runName.literal!.value : 'lightning_logs', versionDir),
        folder: true,
        source: name,
      });
    } else {
      const file = arg(args, 0, 'file');
      if (!usable(file) || !LOG_FILE.test(file.literal.value)) continue;
      const mode = arg(args, 1, 'mode');
      // Only writing makes it a log; open('x.csv') reads data, which is the dataset lens's business.
      if (!usable(mode) || !/[wax]/.test(mode.literal.value)) continue;
      usedForLogs.add(file.literal.start);
      out.push({ kind: 'spikes', line, path: file.literal.value, folder: false, source: name });
    }
  }
  const datasetExt = options.datasetExtensions.map((e) => e.toLowerCase());
  const weightExt = options.weightExtensions.map((e) => e.toLowerCase());
  for (const lit of literals.values()) {
    if (lit.dynamic || usedForLogs.has(lit.start)) continue;
    const v = lit.value.trim();
    if (!v || /^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /[\n\r]/.test(v)) continue; // URLs are not workspace files
    const lower = v.toLowerCase();
    const line = lineOf(lit.start);
    if (datasetExt.some((e) => lower.endsWith(e) && lower.length > e.length))
      out.push({ kind: 'dataset', line, path: v, folder: false, source: v });
    if (weightExt.some((e) => lower.endsWith(e) && lower.length > e.length))
      out.push({ kind: 'weights', line, path: v, folder: false, source: v });
  }
  const seen = new Set<string>();
  return out
    .filter((l) => {
      const k = `${l.kind}\u0000${l.line}\u0000${l.path}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.kind.localeCompare(b.kind));
}
