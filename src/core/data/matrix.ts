// A matrix with missing entries (lin-RFM completion): an .npy (NaN = missing), a CSV without a target
// (empty cells, NA or NaN = missing; a header row is detected by the CSV reader), or a long-format CSV
// `row,col,value` (0-based indices; detected by a header of exactly those names, or asked for). The
// readers and budgets are the dataset ones (npy.ts, csv.ts, limits.ts).
import { InputError } from '../errors';
import { checkTableSize } from '../limits';
import { parseCsv } from './csv';
import { parseNpy, shapeText } from './npy';
import type { RawColumn, Table } from './table';

export type MatrixFormat = 'npy' | 'csv' | 'long';

export interface LoadedMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major; NaN = missing. */
  readonly data: Float64Array;
  readonly format: MatrixFormat;
  /** Column names of a CSV with a header (absent otherwise). */
  readonly columnNames?: readonly string[];
}

export interface MatrixLoadOptions {
  /** Read a CSV as long format row,col,value (its first three columns), whatever its header says. */
  long?: boolean;
}

export const MATRIX_EXTENSIONS: readonly string[] = ['.npy', '.csv', '.tsv', '.txt'];

const LONG_NAMES = ['row', 'col', 'value'];

/** Parses a matrix file's bytes; `file` names it in messages and chooses the format by its extension. */
export function parseMatrix(bytes: Uint8Array, file: string, options: MatrixLoadOptions = {}): LoadedMatrix {
  const lower = file.toLowerCase();
  if (lower.endsWith('.npy')) {
    if (options.long) throw new InputError(`${file}: long format (row,col,value) is a CSV layout; expected a .csv`);
    return npyMatrix(bytes, file);
  }
  if (!MATRIX_EXTENSIONS.some((e) => lower.endsWith(e)))
    throw new InputError(`${file}: unknown matrix format; expected ${MATRIX_EXTENSIONS.join(', ')}`);
  const table = parseCsv(bytes, file, lower.endsWith('.tsv') ? { delimiter: '\t' } : {});
  const names = table.columns.map((c) => c.name.trim());
  const isLong = names.length === 3 && names.every((n, k) => n === LONG_NAMES[k]);
  if (options.long || isLong) return longMatrix(table, file);
  return denseMatrix(table, file);
}

function npyMatrix(bytes: Uint8Array, file: string): LoadedMatrix {
  const array = parseNpy(bytes, file);
  if (array.shape.length !== 2)
    throw new InputError(`${file}: has shape ${shapeText(array.shape)}; expected a 2-D array (rows x columns)`);
  const [rows, cols] = array.shape;
  if (rows === 0 || cols === 0)
    throw new InputError(`${file}: has shape ${shapeText(array.shape)}; expected no empty axis`);
  for (let f = 0; f < array.data.length; f++) {
    const v = array.data[f];
    if (!Number.isNaN(v) && !Number.isFinite(v))
      throw new InputError(
        `${file}: entry [${Math.floor(f / cols)}, ${f % cols}] (0-based) is ${v}; expected a finite number or NaN (missing)`,
      );
  }
  return { rows, cols, data: array.data, format: 'npy' };
}

/** A column's values, refusing text cells (they are not missing: a typo would silently become a gap). */
function numbersOf(table: Table, col: RawColumn, file: string): Float64Array {
  if (col.textCount > 0)
    throw new InputError(
      `${file}: ${table.rowLabel(col.firstText)}, ${col.label}: expected a number or an empty cell (missing), got '${col.firstTextValue.slice(0, 40)}'`,
    );
  return col.numbers;
}

function denseMatrix(table: Table, file: string): LoadedMatrix {
  const rows = table.rows;
  const cols = table.columns.length;
  checkTableSize(file, rows, cols);
  const data = new Float64Array(rows * cols);
  table.columns.forEach((col, j) => {
    const v = numbersOf(table, col, file);
    for (let i = 0; i < rows; i++) data[i * cols + j] = v[i];
  });
  const named = table.columns.some((c, j) => c.name !== `col${j}`);
  return { rows, cols, data, format: 'csv', ...(named ? { columnNames: table.columns.map((c) => c.name) } : {}) };
}

function longMatrix(table: Table, file: string): LoadedMatrix {
  if (table.columns.length < 3)
    throw new InputError(
      `${file}: has ${table.columns.length} column(s); long format needs three: row,col,value (0-based indices)`,
    );
  const [r, c, v] = table.columns.slice(0, 3).map((col) => numbersOf(table, col, file));
  const labels = table.columns.slice(0, 3).map((col) => col.label);
  let rows = 0,
    cols = 0;
  for (let t = 0; t < table.rows; t++) {
    for (const [k, x] of [r[t], c[t]].entries())
      if (!(Number.isInteger(x) && x >= 0))
        throw new InputError(
          `${file}: ${table.rowLabel(t)}, ${labels[k]}: expected a ${k ? 'column' : 'row'} index (an integer >= 0, 0-based), got ${Number.isNaN(x) ? 'an empty cell' : x}`,
        );
    rows = Math.max(rows, r[t] + 1);
    cols = Math.max(cols, c[t] + 1);
  }
  if (table.rows === 0) throw new InputError(`${file}: has no entries; expected lines row,col,value`);
  checkTableSize(`${file}: long format, largest indices`, rows, cols, 'the indices must be 0-based and dense');
  const data = new Float64Array(rows * cols).fill(NaN);
  const seen = new Uint8Array(rows * cols);
  for (let t = 0; t < table.rows; t++) {
    const f = r[t] * cols + c[t];
    if (seen[f])
      throw new InputError(
        `${file}: ${table.rowLabel(t)}: entry (${r[t]}, ${c[t]}) is given a second time; expected each row,col once`,
      );
    seen[f] = 1;
    data[f] = v[t]; // an empty value cell stays missing
  }
  return { rows, cols, data, format: 'long' };
}

/** A dense matrix as CSV text (a header row when `names` are given); numbers round-trip exactly. */
export function matrixToCsv(data: Float64Array, rows: number, cols: number, names?: readonly string[]): string {
  const lines: string[] = [];
  if (names) lines.push(names.map((n) => (/[",\n]/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join(','));
  for (let i = 0; i < rows; i++) lines.push(Array.from(data.subarray(i * cols, (i + 1) * cols), String).join(','));
  return lines.join('\n') + '\n';
}
