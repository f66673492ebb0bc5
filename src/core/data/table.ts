// The part every loader shares: a table of raw columns (from CSV, Parquet or a numpy matrix) becomes a
// Dataset. Column kinds, missing values, one-hot encoding, the target, the task and the training schema
// are decided here once, so every file format behaves the same.
import { InputError, option } from '../errors';
import { MAX_CELLS, MAX_FEATURES } from '../limits';
import { mat } from '../mat';
import type { Dataset, Task } from './dataset';
import { channelsLastSource, imageShapeText, sameImageShape, type ImageShape } from './images';
import type { DatasetSchema, FeatureEncoding } from './schema';

export interface LoadOptions {
  /**
   * Target column: a name, or a 0-based column index. Default: a column named like a target, else the last.
   * With a schema the schema's target is used. For .npz, the name of an array is taken as `yArray`.
   */
  target?: string | number;
  /** Override the inferred task. */
  task?: Task;
  /** Fill missing feature values (training mean / most frequent value) instead of rejecting the file. */
  impute?: boolean;
  /** .npz: name of the feature array (default `X`, else the first array). */
  xArray?: string;
  /** .npz: name of the target array (default `y`, else the second array). */
  yArray?: string;
  /**
   * With a schema: accept a file without the target column (rows to predict). The dataset then has
   * `hasTarget: false` and y filled with NaN.
   */
  targetOptional?: boolean;
  /**
   * Each row's features are one image of this (C, H, W): declared for 2-D tables (CSV, a 2-D .npy,
   * Parquet), whose feature columns (all but the target) must then be C·H·W numbers; checked against a
   * 3-/4-D array's own shape.
   */
  imageShape?: ImageShape;
  /**
   * Pixels are stored (H, W, C) (a 4-D array (N, H, W, C), or table columns in that order); they are
   * reordered to (C, H, W). Undefined: a 4-D array is read channels-last when its last axis is 1, 3 or 4
   * and axis 1 is not; a table is channels-first.
   */
  channelsLast?: boolean;
}

/** Where a table came from, so messages point at rows the way the user sees them. */
export interface TableSource {
  readonly file: string;
  /** `row 7`: for text files the editor line on which the record starts, else the 1-based data row. */
  rowLabel(index: number): string;
}

export interface RawColumn {
  readonly name: string;
  /** How messages name the column, e.g. `column 'age'` or `array 'X' column 3 (0-based)`. */
  readonly label: string;
  /** The value of each row; NaN where the cell is missing or not a number. */
  readonly numbers: Float64Array;
  /**
   * Distinct non-missing cell texts in order of first appearance and each row's index into them (-1 when
   * missing); null for a column of numbers with more distinct values than a categorical column may have.
   */
  readonly levels: readonly string[] | null;
  readonly codes: Int32Array | null;
  readonly numericCount: number;
  readonly textCount: number;
  readonly missingCount: number;
  /** First row holding text (-1: none) and that text. */
  readonly firstText: number;
  readonly firstTextValue: string;
  /** First row with a missing value (-1: none) and how it was spelled. */
  readonly firstMissing: number;
  readonly firstMissingValue: string;
}

export interface Table extends TableSource {
  readonly rows: number;
  readonly columns: readonly RawColumn[];
  /** The format itself says which column is the target (the y array of an .npz). */
  readonly fixedTarget?: string;
  /** The format itself says the features are images (a 3-/4-D array), already reordered to (C, H, W). */
  readonly imageShape?: ImageShape;
}

/** More distinct values than this and a column cannot be one-hot encoded (nor be a class label). */
export const MAX_CATEGORIES = 1000;
/** A numeric target is taken as class labels when it has at most this many distinct integer values. */
export const MAX_INFERRED_CLASSES = 20;

const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', '?']);
// Stricter than Number(): no hex, no binary, no '' -> 0, no Infinity.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITE = /^[+-]?inf(?:inity)?$/i;
const TARGET_NAMES = /^(?:target|label|y|class|species|diagnosis)$/i;

export function isNumberText(cell: string): boolean {
  return DECIMAL.test(cell);
}

export function isMissingText(cell: string): boolean {
  return MISSING_TOKENS.has(cell.trim().toLowerCase());
}

export const IMPUTE_HINT = `use ${option('impute')} to fill missing features with the column mean or most frequent value`;

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 37) + '...' : s).replace(/^"|"$/g, "'");
}

/** Collects one column cell by cell. Throws at once on a non-finite number, naming the row. */
export class ColumnBuilder {
  private readonly nums: number[] = [];
  private codes: number[] | null = [];
  private readonly levelIndex = new Map<string, number>();
  private levels: string[] = [];
  private numericCount = 0;
  private textCount = 0;
  private missingCount = 0;
  private firstText = -1;
  private firstTextValue = '';
  private firstMissing = -1;
  private firstMissingValue = '';

  constructor(
    readonly name: string,
    readonly label: string,
    private readonly source: TableSource,
  ) {}

  get length(): number {
    return this.nums.length;
  }

  /** A cell of text. With `parseNumbers` (CSV) decimal numbers count as numbers, else (Parquet strings) as text. */
  pushText(raw: string, parseNumbers: boolean): void {
    const cell = raw.trim();
    if (MISSING_TOKENS.has(cell.toLowerCase())) return this.pushMissing(cell);
    if (parseNumbers && DECIMAL.test(cell)) {
      const v = Number(cell);
      if (!Number.isFinite(v)) this.rejectInfinite(cell);
      this.numericCount++;
      this.nums.push(v);
    } else {
      if (parseNumbers && INFINITE.test(cell)) this.rejectInfinite(cell);
      if (this.firstText < 0) {
        this.firstText = this.nums.length;
        this.firstTextValue = cell;
      }
      this.textCount++;
      this.nums.push(NaN);
    }
    this.addLevel(cell);
  }

  pushNumber(v: number): void {
    if (Number.isNaN(v)) return this.pushMissing('NaN');
    if (!Number.isFinite(v)) this.rejectInfinite(String(v));
    this.numericCount++;
    this.nums.push(v);
    this.addLevel(String(v));
  }

  pushMissing(spelling: string): void {
    if (this.firstMissing < 0) {
      this.firstMissing = this.nums.length;
      this.firstMissingValue = spelling;
    }
    this.missingCount++;
    this.nums.push(NaN);
    this.codes?.push(-1);
  }

  finish(): RawColumn {
    return {
      name: this.name,
      label: this.label,
      numbers: Float64Array.from(this.nums),
      levels: this.codes ? this.levels : null,
      codes: this.codes ? Int32Array.from(this.codes) : null,
      numericCount: this.numericCount,
      textCount: this.textCount,
      missingCount: this.missingCount,
      firstText: this.firstText,
      firstTextValue: this.firstTextValue,
      firstMissing: this.firstMissing,
      firstMissingValue: this.firstMissingValue,
    };
  }

  private addLevel(cell: string): void {
    if (!this.codes) return;
    let code = this.levelIndex.get(cell);
    if (code === undefined) {
      if (this.levels.length >= MAX_CATEGORIES && this.textCount === 0) {
        // Too many numbers to be categories (a float column): stop paying for the dictionary. Text keeps
        // it, so a test file's categories can still be matched to the training file's.
        this.codes = null;
        this.levels = [];
        this.levelIndex.clear();
        return;
      }
      code = this.levels.length;
      this.levels.push(cell);
      this.levelIndex.set(cell, code);
    }
    this.codes.push(code);
  }

  private rejectInfinite(cell: string): never {
    throw new InputError(
      `${this.source.file}: ${this.source.rowLabel(this.nums.length)}, ${this.label}: expected a finite number, got ${quote(cell)}`,
    );
  }
}

/** A column of numbers known up front (numpy arrays): NaN counts as missing, ±Inf is rejected. */
export function numericColumn(name: string, label: string, values: Float64Array, source: TableSource): RawColumn {
  let missing = 0;
  let firstMissing = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      if (firstMissing < 0) firstMissing = i;
      missing++;
    } else if (!Number.isFinite(v)) {
      throw new InputError(`${source.file}: ${source.rowLabel(i)}, ${label}: expected a finite number, got ${v}`);
    }
  }
  return {
    name,
    label,
    numbers: values,
    levels: null,
    codes: null,
    numericCount: values.length - missing,
    textCount: 0,
    missingCount: missing,
    firstText: -1,
    firstTextValue: '',
    firstMissing,
    firstMissingValue: 'NaN',
  };
}

type Kind = 'numeric' | 'categorical';

/** Numeric if every present cell is a number; categorical if text dominates; a stray word among numbers is an error. */
function kindOf(table: TableSource, col: RawColumn, role: 'feature' | 'target'): Kind {
  if (col.textCount === 0) return 'numeric';
  if (col.numericCount >= col.textCount) {
    throw new InputError(
      `${table.file}: ${table.rowLabel(col.firstText)}, ${col.label}: expected a number, got ${quote(col.firstTextValue)} ` +
        `(${col.numericCount} other values in this column are numbers)`,
    );
  }
  if (!col.levels || col.levels.length > MAX_CATEGORIES) {
    throw new InputError(
      `${table.file}: ${col.label} has more than ${MAX_CATEGORIES} distinct text values (e.g. ${quote(col.firstTextValue)} on ` +
        `${table.rowLabel(col.firstText)}); expected numbers or a ${role === 'target' ? 'class label' : 'category'} column with at most ${MAX_CATEGORIES} values`,
    );
  }
  return 'categorical';
}

export function suggestTarget(names: readonly string[]): string {
  return names.find((n) => TARGET_NAMES.test(n.trim())) ?? names[names.length - 1];
}

/** Whether a column is named as a target is (y, label, class, target, ...); else the default target is merely the last column. */
export const isTargetLikeName = (name: string): boolean => TARGET_NAMES.test(name.trim());

/**
 * A target named like the features, as numbered columns are (x9 among x0..x8, col9 among col0..col8,
 * px_27_27 among px_*): most likely a feature taken as the target because the file does not say which
 * column is the target.
 */
export function targetLooksLikeFeature(target: string, features: readonly string[]): boolean {
  if (isTargetLikeName(target) || features.length === 0) return false;
  const stem = (n: string) => n.trim().toLowerCase().replace(/\d+/g, '#');
  if (!/\d/.test(target)) return false;
  const t = stem(target);
  return features.filter((f) => stem(f) === t).length >= Math.max(1, features.length / 2);
}

/** Strings are labels; otherwise a few distinct integers are labels too (e.g. 0/1/2), anything else is regression. */
function inferTask(table: TableSource, col: RawColumn): Task {
  if (kindOf(table, col, 'target') === 'categorical') return 'classification';
  const seen = new Set<number>();
  let present = 0;
  for (const v of col.numbers) {
    if (Number.isNaN(v)) continue;
    present++;
    if (!Number.isInteger(v)) return 'regression';
    seen.add(v);
    if (seen.size > MAX_INFERRED_CLASSES) return 'regression';
  }
  // Every row its own integer (e.g. 10 rows of ids) is not a class structure.
  return seen.size > 0 && seen.size < present ? 'classification' : 'regression';
}

function listNames(cols: readonly RawColumn[]): string {
  const shown = cols
    .slice(0, 20)
    .map((c) => quote(c.name))
    .join(', ');
  return cols.length > 20 ? `${shown}, ... (${cols.length} columns)` : shown;
}

function findTarget(table: Table, target: string | number | undefined): RawColumn {
  const cols = table.columns;
  if (cols.length < 2)
    throw new InputError(
      `${table.file}: has ${cols.length} column(s); expected at least one feature column and a target column`,
    );
  if (target === undefined) {
    const name = suggestTarget(cols.map((c) => c.name));
    return cols.find((c) => c.name === name)!;
  }
  if (typeof target === 'string') {
    const exact =
      cols.find((c) => c.name === target) ?? cols.find((c) => c.name.toLowerCase() === target.toLowerCase());
    if (exact) return exact;
    if (/^\d+$/.test(target)) return findTarget(table, Number(target));
    throw new InputError(`${table.file}: no target column named ${quote(target)}; the columns are ${listNames(cols)}`);
  }
  if (!Number.isInteger(target) || target < 0 || target >= cols.length) {
    throw new InputError(
      `${table.file}: target column index ${target} is out of range; expected 0..${cols.length - 1} (0-based, ${cols.length} columns)`,
    );
  }
  return cols[target];
}

/** Class label of a row: numbers by value (so `1` and `1.0` agree), text as written. */
function labelOf(col: RawColumn, i: number): string | null {
  const v = col.numbers[i];
  if (!Number.isNaN(v)) return String(v);
  if (col.codes && col.levels) return col.codes[i] < 0 ? null : col.levels[col.codes[i]];
  return null;
}

function compareLabels(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (DECIMAL.test(a) && DECIMAL.test(b)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

function rejectMissingTarget(table: TableSource, col: RawColumn, row: number): never {
  throw new InputError(
    `${table.file}: ${table.rowLabel(row)}, ${col.label}: missing target value ${quote(col.firstMissingValue)}; ` +
      'every row needs a target (imputation fills features only)',
  );
}

function encodeTarget(
  table: Table,
  col: RawColumn,
  task: Task,
  classes: readonly string[] | undefined,
): { y: Float64Array; classes?: string[] } {
  const n = table.rows;
  const y = new Float64Array(n);
  if (task === 'regression') {
    if (col.textCount > 0) {
      throw new InputError(
        `${table.file}: ${table.rowLabel(col.firstText)}, ${col.label}: a regression target must be numeric, got ${quote(col.firstTextValue)}`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(col.numbers[i])) rejectMissingTarget(table, col, i);
      y[i] = col.numbers[i];
    }
    return { y };
  }
  const labels: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = labelOf(col, i);
    if (labels[i] === null) rejectMissingTarget(table, col, i);
  }
  const known = classes ?? [...new Set(labels as string[])].sort(compareLabels);
  if (known.length > MAX_CATEGORIES) {
    throw new InputError(
      `${table.file}: ${col.label} has ${known.length} distinct values; expected at most ${MAX_CATEGORIES} classes (use task 'regression' for a numeric target)`,
    );
  }
  const index = new Map(known.map((c, k) => [c, k]));
  // A label the training file never had gets -1: it can be predicted but never right.
  for (let i = 0; i < n; i++) y[i] = index.get(labels[i]!) ?? -1;
  return { y, classes: classes ? undefined : [...known] };
}

/** Decide a feature column's encoding from the training file. */
function planFeature(table: Table, col: RawColumn, impute: boolean): FeatureEncoding {
  const kind = kindOf(table, col, 'feature');
  if (col.missingCount > 0 && !impute) rejectMissing(table, col, kind);
  if (col.missingCount === table.rows) {
    throw new InputError(
      `${table.file}: ${col.label} has no values at all (every row is missing); expected at least one value to impute from`,
    );
  }
  if (kind === 'numeric') {
    let sum = 0;
    for (const v of col.numbers) if (!Number.isNaN(v)) sum += v;
    let fill = sum / col.numericCount;
    if (!Number.isFinite(fill)) {
      // Values near 1e308 overflow the sum (and JSON would turn Infinity into null): a running mean cannot.
      fill = 0;
      let k = 0;
      for (const v of col.numbers) if (!Number.isNaN(v)) fill += (v - fill) / ++k;
    }
    return { column: col.name, kind, fill };
  }
  const levels = col.levels!;
  const counts = new Float64Array(levels.length);
  for (const c of col.codes!) if (c >= 0) counts[c]++;
  const categories = [...levels].sort(compareLabels);
  let fill = categories[0];
  let best = -1;
  const at = new Map(levels.map((l, k) => [l, k]));
  for (const c of categories) {
    const count = counts[at.get(c)!];
    if (count > best) {
      best = count;
      fill = c;
    }
  }
  return { column: col.name, kind, categories, fill };
}

function rejectMissing(table: TableSource, col: RawColumn, kind: Kind): never {
  throw new InputError(
    `${table.file}: ${table.rowLabel(col.firstMissing)}, ${col.label}: missing value ${quote(col.firstMissingValue)}; ` +
      `expected ${kind === 'numeric' ? 'a number' : 'a value'} (${IMPUTE_HINT})`,
  );
}

/** Write one feature's encoded columns (1 for numeric, one per category) into X starting at `offset`. */
function fillFeature(
  table: Table,
  col: RawColumn,
  enc: FeatureEncoding,
  impute: boolean,
  X: Float64Array,
  d: number,
  offset: number,
): void {
  const n = table.rows;
  if (enc.kind === 'numeric') {
    if (col.textCount > 0) {
      throw new InputError(
        `${table.file}: ${table.rowLabel(col.firstText)}, ${col.label}: expected a number (the column is numeric in the training file), got ${quote(col.firstTextValue)}`,
      );
    }
    if (col.missingCount > 0 && !impute) rejectMissing(table, col, 'numeric');
    for (let i = 0; i < n; i++) {
      const v = col.numbers[i];
      X[i * d + offset] = Number.isNaN(v) ? enc.fill : v;
    }
    return;
  }
  if (col.missingCount > 0 && !impute) rejectMissing(table, col, 'categorical');
  if (!col.levels && col.textCount > 0) kindOf(table, col, 'feature'); // numbers with stray words: throws
  const position = new Map(enc.categories.map((c, k) => [c, k]));
  const fillAt = position.get(enc.fill) ?? -1;
  // Unseen categories stay all-zero: the row is simply unlike every training category.
  const fromLevel = col.levels && col.codes ? col.levels.map((l) => position.get(l) ?? -1) : null;
  for (let i = 0; i < n; i++) {
    let k: number;
    if (fromLevel) {
      const code = col.codes![i];
      k = code < 0 ? fillAt : fromLevel[code];
    } else {
      const v = col.numbers[i];
      k = Number.isNaN(v) ? fillAt : (position.get(String(v)) ?? -1);
    }
    if (k >= 0) X[i * d + offset + k] = 1;
  }
}

function featureNamesOf(features: readonly FeatureEncoding[]): string[] {
  return features.flatMap((f) => (f.kind === 'numeric' ? [f.column] : f.categories.map((c) => `${f.column}=${c}`)));
}

/** The one-hot width is known from the plan: refuse it before X (rows x d float64) is allocated. */
function checkEncodedSize(table: Table, pairs: { col: RawColumn; enc: FeatureEncoding }[], d: number): void {
  if (d <= MAX_FEATURES && table.rows * d <= MAX_CELLS) return;
  const wide = pairs
    .filter((p) => p.enc.kind === 'categorical')
    .map((p) => ({ name: p.col.name, k: p.enc.kind === 'categorical' ? p.enc.categories.length : 1 }))
    .sort((a, b) => b.k - a.k);
  const widest = wide.length
    ? `; the widest categorical columns: ${wide
        .slice(0, 5)
        .map((w) => `${quote(w.name)} (${w.k} categories)`)
        .join(', ')}${wide.length > 5 ? `, ... (${wide.length} categorical columns)` : ''}`
    : '';
  const way = wide.length
    ? 'drop or bucket the many-valued text columns, or select fewer columns'
    : 'select fewer columns, or subsample the rows';
  if (d > MAX_FEATURES)
    throw new InputError(
      `${table.file}: one-hot encoding gives d = ${d} features, over the limit of ${MAX_FEATURES} (the RFM feature matrix is d x d)${widest}; ${way}`,
    );
  throw new InputError(
    `${table.file}: ${table.rows} rows x ${d} encoded features = ${table.rows * d} values, over the limit of ${MAX_CELLS} (${MAX_CELLS * 8} bytes as float64)${widest}; ${way}`,
  );
}

function buildX(table: Table, pairs: { col: RawColumn; enc: FeatureEncoding }[], impute: boolean): Float64Array {
  const d = pairs.reduce((s, p) => s + (p.enc.kind === 'numeric' ? 1 : p.enc.categories.length), 0);
  checkEncodedSize(table, pairs, d);
  const X = new Float64Array(table.rows * d);
  let offset = 0;
  for (const { col, enc } of pairs) {
    fillFeature(table, col, enc, impute, X, d, offset);
    offset += enc.kind === 'numeric' ? 1 : enc.categories.length;
  }
  return X;
}

/** Turn a parsed table into a Dataset; with the training file's schema, encode it exactly like training. */
export function encodeTable(
  table: Table,
  options: LoadOptions = {},
  schema?: DatasetSchema,
): { dataset: Dataset; schema: DatasetSchema } {
  if (table.rows === 0) throw new InputError(`${table.file}: has no data rows; expected at least one row of values`);
  const impute = options.impute === true;
  if (schema) return encodeWithSchema(table, options, schema, impute);

  const target = findTarget(table, table.fixedTarget ?? options.target);
  const task = options.task ?? inferTask(table, target);
  const { y, classes } = encodeTarget(table, target, task, undefined);
  const pairs = table.columns.filter((c) => c !== target).map((col) => ({ col, enc: planFeature(table, col, impute) }));
  const features = pairs.map((p) => p.enc);
  const featureNames = featureNamesOf(features);
  const image = imageLayout(table, options, pairs, target.name, buildX(table, pairs, impute), featureNames);
  const out: DatasetSchema = {
    features,
    featureNames: image.featureNames,
    targetName: target.name,
    task,
    ...(classes ? { classes } : {}),
  };
  return {
    dataset: {
      source: table.file,
      X: mat(table.rows, image.featureNames.length, image.X),
      featureNames: image.featureNames,
      y,
      targetName: target.name,
      task,
      ...(classes ? { classes } : {}),
      ...(image.imageShape ? { imageShape: image.imageShape } : {}),
    },
    schema: out,
  };
}

/**
 * The image shape of the features, from the array itself or declared: every feature must be a numeric
 * column and there must be exactly C·H·W of them. A declared channels-last table is reordered to (C, H, W).
 */
function imageLayout(
  table: Table,
  options: LoadOptions,
  pairs: readonly { col: RawColumn; enc: FeatureEncoding }[],
  targetName: string,
  X: Float64Array,
  featureNames: string[],
): { X: Float64Array; featureNames: string[]; imageShape?: ImageShape } {
  const own = table.imageShape;
  const declared = options.imageShape;
  if (own && declared && !sameImageShape(own, declared)) {
    throw new InputError(
      `${table.file}: holds images of shape C,H,W = ${imageShapeText(own)} but the image shape given (--image-shape) is ${imageShapeText(declared)}; drop --image-shape or make it ${imageShapeText(own)}`,
    );
  }
  const shape = own ?? declared;
  if (!shape) return { X, featureNames };
  const text = pairs.find((p) => p.enc.kind !== 'numeric');
  if (text) {
    throw new InputError(
      `${table.file}: ${text.col.label} holds text, but with image shape ${imageShapeText(shape)} (--image-shape) every feature column is a pixel; expected numbers (or name the label column with --target)`,
    );
  }
  const size = shape[0] * shape[1] * shape[2];
  if (featureNames.length !== size) {
    throw new InputError(
      `${table.file}: image shape C,H,W = ${imageShapeText(shape)} (--image-shape) needs ${size} pixel columns besides the target ${quote(targetName)}, but there are ${featureNames.length}; expected C·H·W feature columns (fix --image-shape, or --target)`,
    );
  }
  if (own || !options.channelsLast) return { X, featureNames, imageShape: shape };
  const n = table.rows;
  const src = Array.from({ length: size }, (_, j) => channelsLastSource(j, shape));
  const out = new Float64Array(X.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[i * size + j] = X[i * size + src[j]];
  return { X: out, featureNames: src.map((k) => featureNames[k]), imageShape: shape };
}

function encodeWithSchema(
  table: Table,
  options: LoadOptions,
  schema: DatasetSchema,
  impute: boolean,
): { dataset: Dataset; schema: DatasetSchema } {
  if (options.task && options.task !== schema.task) {
    throw new InputError(
      `${table.file}: task '${options.task}' differs from the training file's task '${schema.task}'`,
    );
  }
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const pairs = schema.features.map((enc) => {
    const col = byName.get(enc.column);
    if (!col) {
      throw new InputError(
        `${table.file}: missing feature column ${quote(enc.column)} (present in the training file); the columns are ${listNames(table.columns)}`,
      );
    }
    return { col, enc };
  });
  const image = imageLayout(
    table,
    options,
    pairs,
    schema.targetName,
    buildX(table, pairs, impute),
    featureNamesOf(schema.features),
  );
  const targetCol = byName.get(schema.targetName);
  let y: Float64Array;
  if (targetCol) {
    y = encodeTarget(
      table,
      targetCol,
      schema.task,
      schema.task === 'classification' ? (schema.classes ?? []) : undefined,
    ).y;
  } else if (options.targetOptional) {
    y = new Float64Array(table.rows).fill(NaN);
  } else {
    throw new InputError(
      `${table.file}: missing target column ${quote(schema.targetName)} (the training file's target); the columns are ${listNames(table.columns)}`,
    );
  }
  const featureNames = image.featureNames;
  const dataset: Dataset = {
    source: table.file,
    X: mat(table.rows, featureNames.length, image.X),
    featureNames,
    y,
    targetName: schema.targetName,
    task: schema.task,
    ...(schema.classes ? { classes: [...schema.classes] } : {}),
    ...(targetCol ? {} : { hasTarget: false }),
    ...(image.imageShape ? { imageShape: image.imageShape } : {}),
  };
  return { dataset, schema };
}

export interface TableSummary {
  rows: number;
  columns: { name: string; kind: Kind }[];
  suggestedTarget: string;
  suggestedTask: Task;
}

/** A cheap description for pickers: no encoding, and a mixed column is shown as categorical rather than rejected. */
export function summarizeTable(table: Table): TableSummary {
  if (table.columns.length === 0)
    throw new InputError(`${table.file}: has no columns; expected feature columns and a target column`);
  const columns = table.columns.map((c) => ({
    name: c.name,
    kind: (c.textCount > 0 ? 'categorical' : 'numeric') as Kind,
  }));
  const suggestedTarget = table.fixedTarget ?? suggestTarget(columns.map((c) => c.name));
  const col = table.columns.find((c) => c.name === suggestedTarget)!;
  let suggestedTask: Task;
  try {
    suggestedTask = inferTask(table, col);
  } catch {
    suggestedTask = 'classification';
  }
  return { rows: table.rows, columns, suggestedTarget, suggestedTask };
}
