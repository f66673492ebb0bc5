// Delimited text (CSV, TSV, semicolon, pipe) into a raw table. papaparse does the quoting; we add the
// delimiter and header guesses and keep, for every record, the editor line it starts on for messages.
import Papa from 'papaparse';
import { InputError } from '../errors';
import { checkTableSize, MAX_CELLS, MAX_COLUMNS, MAX_ROWS, MAX_TEXT_DATASET_BYTES } from '../limits';
import { ColumnBuilder, isMissingText, isNumberText, type RawColumn, type Table } from './table';

export const CSV_DELIMITERS: readonly string[] = [',', '\t', ';', '|'];
/** A JavaScript string cannot hold much more than 2^29 characters; past this we ask for a binary format. */
export const MAX_TEXT_BYTES = MAX_TEXT_DATASET_BYTES;
const SNIFF_CHARS = 64 * 1024;
const SNIFF_RECORDS = 50;
const HEADER_SAMPLE = 50;

export interface CsvOptions {
  /** Skip sniffing (e.g. '\t' for .tsv). */
  delimiter?: string;
}

function describeDelimiter(d: string): string {
  return d === '\t' ? 'tab' : `'${d}'`;
}

export function decodeText(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_TEXT_BYTES) {
    throw new InputError(
      `${file}: ${bytes.length} bytes is more than the ${MAX_TEXT_BYTES} bytes a text table can have here; expected a smaller file (or save it as .npy or .parquet)`,
    );
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new InputError(`${file}: is UTF-16 text; expected UTF-8 (re-save the file as UTF-8)`);
  }
  const head = bytes.subarray(0, 8192);
  const nul = head.indexOf(0);
  if (nul >= 0)
    throw new InputError(
      `${file}: looks binary (a zero byte at offset ${nul}); expected UTF-8 text with delimited columns`,
    );
  // Not fatal: a stray Latin-1 byte in a category name should not sink the file. The decoder drops a BOM.
  return new TextDecoder('utf-8').decode(bytes);
}

/** The candidate that splits the first records into the most consistent number of fields (> 1). */
export function sniffDelimiter(text: string): string {
  let sample = text.slice(0, SNIFF_CHARS);
  if (text.length > SNIFF_CHARS) sample = sample.slice(0, Math.max(sample.lastIndexOf('\n'), 1));
  let best = { delimiter: ',', agreement: -1, fields: 1 };
  for (const delimiter of CSV_DELIMITERS) {
    const rows = Papa.parse<string[]>(sample, { delimiter, preview: SNIFF_RECORDS, skipEmptyLines: true }).data;
    const freq = new Map<number, number>();
    for (const r of rows) freq.set(r.length, (freq.get(r.length) ?? 0) + 1);
    let fields = 1;
    let count = 0;
    for (const [k, c] of freq)
      if (c > count || (c === count && k > fields)) {
        fields = k;
        count = c;
      }
    if (fields < 2) continue;
    const agreement = count / rows.length;
    if (agreement > best.agreement || (agreement === best.agreement && fields > best.fields))
      best = { delimiter, agreement, fields };
  }
  return best.delimiter;
}

/** pandas writes default column names 0..k-1, after a blank index header when it writes the index. */
function isDefaultNameRow(cells: string[]): boolean {
  const names = cells[0] === '' ? cells.slice(1) : cells;
  return names.length >= 2 && names.every((c, k) => c === String(k));
}

/**
 * A header is a first record whose words (or integers) sit above numbers (fractions), or whose words never
 * occur again in their column (a file of pure categories has its header words only once). Integers in a
 * header must read 0, 1, 2, ... and need the first kind of evidence; a fraction makes the record data.
 */
function looksLikeHeader(first: string[], sample: string[][]): boolean {
  const cells = first.map((c) => c.trim());
  if (isDefaultNameRow(cells)) return true;
  const numeric = cells.filter(isNumberText);
  if (numeric.some((c) => !/^\d+$/.test(c))) return false;
  if (sample.length === 0) return numeric.length === 0;
  let aboveNumbers = false;
  let repeats = false;
  cells.forEach((cell, j) => {
    if (cell === '') return;
    const below = sample.map((r) => (r[j] ?? '').trim()).filter((c) => !isMissingText(c));
    const belowNumbers = below.length > 0 && below.every(isNumberText);
    if (isNumberText(cell)) {
      // An integer over a column of fractions is a name like pandas' `0`, not a value.
      if (belowNumbers && below.some((c) => !Number.isInteger(Number(c)))) aboveNumbers = true;
      return;
    }
    if (belowNumbers) aboveNumbers = true;
    if (below.includes(cell)) repeats = true;
  });
  if (numeric.length === 0) return aboveNumbers || !repeats;
  // Integers in a header are pandas' default names, numbered from 0 in column order.
  return numeric.every((c, k) => c === String(k)) && aboveNumbers;
}

/** A first column with a blank name holding distinct integers is the row index pandas writes by default. */
function isIndexColumn(col: RawColumn, rows: number): boolean {
  if (col.textCount > 0 || col.missingCount > 0 || rows < 2) return false;
  const seen = new Set<number>();
  for (const v of col.numbers) {
    if (!Number.isInteger(v) || seen.has(v)) return false;
    seen.add(v);
  }
  return true;
}

function columnNames(header: string[] | null, width: number): string[] {
  const seen = new Map<string, number>();
  const names: string[] = [];
  for (let j = 0; j < width; j++) {
    let name = header?.[j]?.trim() || `col${j}`;
    const k = seen.get(name) ?? 0;
    seen.set(name, k + 1);
    // Same rule as pandas for repeated names, so `a` and `a.1` stay addressable.
    if (k > 0) name = `${name}.${k}`;
    names.push(name);
  }
  return names;
}

export function parseCsv(bytes: Uint8Array, file: string, options: CsvOptions = {}): Table {
  if (bytes.length === 0) throw new InputError(`${file}: is empty; expected a header row and rows of values`);
  const text = decodeText(bytes, file);
  if (text.trim() === '')
    throw new InputError(`${file}: is empty (only whitespace); expected a header row and rows of values`);
  const delimiter = options.delimiter ?? sniffDelimiter(text);

  const lines: number[] = [];
  const source = { file, rowLabel: (i: number) => `row ${lines[i] ?? '?'}` };
  let line = 1;
  let pos = 0;
  let pending: { cells: string[]; line: number }[] | null = [];
  let names: string[] = [];
  let builders: ColumnBuilder[] = [];
  let headerLine = 0;
  let headerBlankLast = false;
  let headerBlankFirst = false;

  const countBreaks = (from: number, to: number): number => {
    let n = 0;
    for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };

  const start = (): void => {
    const rows = pending!;
    pending = null;
    const [first, ...rest] = rows;
    const header = looksLikeHeader(
      first.cells,
      rest.slice(0, HEADER_SAMPLE).map((r) => r.cells),
    );
    if (header) {
      headerLine = first.line;
      headerBlankLast = first.cells.length > 1 && first.cells[first.cells.length - 1].trim() === '';
      headerBlankFirst = first.cells.length > 1 && first.cells[0].trim() === '';
    }
    // Before a column builder exists: 100,000 columns would be refused only after allocating them all.
    if (first.cells.length > MAX_COLUMNS) checkTableSize(`${file}: row ${first.line}`, 1, first.cells.length);
    names = columnNames(header ? first.cells : null, first.cells.length);
    builders = names.map((n) => new ColumnBuilder(n, `column ${JSON.stringify(n).replace(/^"|"$/g, "'")}`, source));
    for (const r of header ? rest : rows) add(r.cells, r.line);
  };

  const add = (cells: string[], at: number): void => {
    if (cells.length !== builders.length) {
      const like = headerLine ? `the header on row ${headerLine}` : 'the first row';
      throw new InputError(
        `${file}: row ${at} has ${cells.length} field${cells.length === 1 ? '' : 's'}; expected ${builders.length} like ${like} (delimiter ${describeDelimiter(delimiter)})`,
      );
    }
    // Counted as the rows arrive: a text file has no header that declares them.
    if (lines.length >= MAX_ROWS || (lines.length + 1) * builders.length > MAX_CELLS)
      throw new InputError(
        `${file}: row ${at} is past the limit of ${Math.min(MAX_ROWS, Math.floor(MAX_CELLS / builders.length))} rows for a dataset of ${builders.length} columns (at most ${MAX_ROWS} rows and ${MAX_CELLS} values); subsample the rows first`,
      );
    lines.push(at);
    for (let j = 0; j < cells.length; j++) builders[j].pushText(cells[j], true);
  };

  Papa.parse<string[]>(text, {
    delimiter,
    skipEmptyLines: true,
    step: (result) => {
      // Walk the line breaks between the previous record and this one so messages can cite editor lines.
      while (pos < text.length && (text[pos] === '\n' || text[pos] === '\r')) {
        if (text[pos] === '\n' || text[pos + 1] !== '\n') line++;
        pos++;
      }
      const at = line;
      const end = Math.max(result.meta.cursor, pos);
      line += countBreaks(pos, end);
      pos = end;
      const quoteError = result.errors.find((e) => e.type === 'Quotes');
      if (quoteError)
        throw new InputError(
          `${file}: row ${at}: ${quoteError.message.toLowerCase()}; expected a closing '"' for each opening one`,
        );
      const cells = result.data;
      if (cells.length === 1 && cells[0].trim() === '') return;
      if (pending) {
        pending.push({ cells, line: at });
        if (pending.length > HEADER_SAMPLE) start();
      } else add(cells, at);
    },
  });
  if (pending && pending.length > 0) start();
  if (builders.length === 0) throw new InputError(`${file}: has no rows; expected a header row and rows of values`);

  let columns = builders.map((b) => b.finish());
  const last = columns[columns.length - 1];
  // `a,b,c,` on every line (a trailing delimiter) leaves an empty unnamed column: not data.
  if (headerBlankLast && last.missingCount === lines.length) columns = columns.slice(0, -1);
  if (headerBlankFirst && columns.length > 2 && isIndexColumn(columns[0], lines.length)) columns = columns.slice(1);
  if (lines.length === 0) {
    throw new InputError(
      `${file}: has a header (row ${headerLine}) but no data rows; expected rows of values below it`,
    );
  }
  return { ...source, rows: lines.length, columns };
}
