// numpy's .npz: a zip of .npy files. fflate reads the zip; we choose which arrays are X and y and refuse
// archives that would inflate beyond what a plain file may hold (zip bombs).
import { Unzip, UnzipInflate, unzipSync } from 'fflate';
import { InputError } from '../errors';
import { MAX_INFLATED_BYTES as LIMIT_INFLATED_BYTES } from '../limits';
import { arrayImageLayout, channelsLastToFirst } from './images';
import {
  checkNpyShape,
  matrixTable,
  npyDataStart,
  parseNpy,
  parseNpyHeader,
  rowLabel,
  shapeText,
  type NpyArray,
} from './npy';
import { numericColumn, type LoadOptions, type Table } from './table';

/** At most this many bytes are inflated from one archive: the size a plain .npy may have (core/limits.ts). */
export const MAX_INFLATED_BYTES = LIMIT_INFLATED_BYTES;
// Pushes stay small: fflate handles the members inside one push by recursion, one frame each, so a push
// holding thousands of tiny arrays (np.savez of many scalars) would overflow the stack.
const PUSH_BYTES = 1 << 16;

interface Entry {
  /** Name inside the zip, e.g. `X.npy`. */
  readonly name: string;
  /** The array name numpy gives it (`X`). */
  readonly array: string;
  readonly compression: number;
  /** Declared in the central directory; never trusted beyond being an upper bound. */
  readonly originalSize: number;
}

function listEntries(bytes: Uint8Array, file: string): Entry[] {
  const entries: Entry[] = [];
  const names = new Set<string>();
  try {
    // Only the central directory is read: the filter refuses every entry.
    unzipSync(bytes, {
      filter: (f) => {
        // np.savez never writes a name twice; with two, one array would silently stand for the other.
        if (names.has(f.name))
          throw new InputError(
            `${file}: member '${f.name}' is listed twice in the .npz (zip) archive (damaged file); re-save it with numpy.savez`,
          );
        names.add(f.name);
        entries.push({
          name: f.name,
          array: f.name.replace(/\.npy$/, ''),
          compression: f.compression,
          originalSize: f.originalSize,
        });
        return false;
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      `${file}: not a readable .npz (zip) archive (${(e as Error).message}); expected a file written by numpy.savez`,
    );
  }
  return entries;
}

function inflateEntries(bytes: Uint8Array, file: string, wanted: Entry[]): Map<string, Uint8Array> {
  const byName = new Map(wanted.map((e) => [e.name, e]));
  const out = new Map<string, Uint8Array>();
  let failure: InputError | null = null;
  const started = new Set<string>();
  const unzip = new Unzip((f) => {
    const entry = byName.get(f.name);
    if (!entry) return; // never started: skipped without inflating
    if (started.has(f.name)) {
      // The stream reads local headers: two with one name means one of them is not what the directory says.
      failure ??= new InputError(
        `${file}: member '${f.name}' appears twice in the .npz (zip) archive (damaged file); re-save it with numpy.savez`,
      );
      return;
    }
    started.add(f.name);
    const buf = new Uint8Array(entry.originalSize);
    let filled = 0;
    let headerChecked = false;
    const what = `${file}: array '${entry.array}'`;
    f.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) {
        failure = new InputError(`${file}: array '${entry.array}' is damaged (${err.message})`);
        return;
      }
      if (filled + chunk.length > buf.length) {
        // Counting what actually comes out, not what the header claims, is what stops a bomb.
        failure = new InputError(
          `${file}: array '${entry.array}' inflates past the ${entry.originalSize} bytes its zip entry declares; refusing it (corrupt archive or zip bomb)`,
        );
        f.terminate();
        return;
      }
      buf.set(chunk, filled);
      filled += chunk.length;
      if (!headerChecked && filled >= 10) {
        // The .npy header comes first: its shape is checked against the dataset limits as soon as it
        // has arrived, so an archive declaring 67M rows stops after its first chunk, not after inflating.
        try {
          const head = buf.subarray(0, filled);
          if (npyDataStart(head, what) <= filled) {
            headerChecked = true;
            checkNpyShape(parseNpyHeader(head, what).shape, what);
          }
        } catch (e) {
          failure = e instanceof InputError ? e : new InputError(`${what}: ${(e as Error).message}`);
          f.terminate();
          return;
        }
      }
      if (!final) return;
      if (filled !== buf.length)
        failure = new InputError(
          `${file}: array '${entry.array}' is truncated: ${filled} of ${entry.originalSize} declared bytes`,
        );
      else out.set(f.name, buf);
    };
    f.start();
  });
  unzip.register(UnzipInflate);
  try {
    // Small pushes first (deflated zeros inflate ~1000:1): an array's .npy header is checked after a
    // few MB are inflated, not after the whole first megabyte of compressed data (up to ~1 GB).
    for (let off = 0, step = 1024; off < bytes.length && !failure; off += step, step = Math.min(step * 2, PUSH_BYTES)) {
      unzip.push(bytes.subarray(off, off + step), off + step >= bytes.length);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${file}: damaged .npz (zip) archive (${(e as Error).message})`);
  }
  if (failure) throw failure;
  for (const e of wanted)
    if (!out.has(e.name))
      throw new InputError(
        `${file}: array '${e.array}' is listed in the archive but its data could not be found (truncated file?)`,
      );
  return out;
}

function pick(entries: Entry[], file: string, options: LoadOptions): Entry[] {
  const find = (name: string) => entries.find((e) => e.array === name);
  const listed = entries.map((e) => `'${e.array}'`).join(', ');
  const named = (name: string | undefined, role: string): Entry | undefined => {
    if (name === undefined) return undefined;
    const e = find(name);
    if (!e) throw new InputError(`${file}: has no array named '${name}' (${role}); its arrays are ${listed}`);
    return e;
  };
  // A target given by name that is an array of the archive reads naturally as the y array.
  const yName =
    options.yArray ?? (typeof options.target === 'string' && find(options.target) ? options.target : undefined);
  let x = named(options.xArray, 'features');
  let y = named(yName, 'target');
  if (!y && entries.length === 1) {
    const only = entries[0];
    // Rows to predict may come as X alone; any other single array is a matrix holding the target too.
    if (x || only.array === 'X') {
      if (options.targetOptional) return [only];
      throw new InputError(
        `${file}: holds only the feature array '${only.array}'; expected a target array ('y') beside it`,
      );
    }
    return [only];
  }
  if (!x && !y && find('X') && find('y')) return [find('X')!, find('y')!];
  const others = (not?: Entry) => entries.filter((e) => e !== not);
  x ??= (find('X') !== y ? find('X') : undefined) ?? others(y)[0];
  y ??= (find('y') !== x ? find('y') : undefined) ?? others(x)[0];
  if (!x || !y || x === y)
    throw new InputError(`${file}: needs a feature array and a target array; its arrays are ${listed}`);
  return [x, y];
}

/** Declared sizes are checked before anything is inflated, so a bomb never gets an allocation. */
function checkDeclaredSizes(file: string, chosen: Entry[], maxInflated: number): void {
  let total = 0;
  for (const e of chosen) {
    if (e.compression !== 0 && e.compression !== 8) {
      throw new InputError(
        `${file}: array '${e.array}' uses zip compression method ${e.compression}; expected stored (0) or deflated (8) as numpy writes`,
      );
    }
    total += e.originalSize;
    if (total > maxInflated) {
      throw new InputError(
        `${file}: array '${e.array}' would inflate to ${e.originalSize} bytes (${total} in all), over the ${maxInflated}-byte limit for an .npz; refusing it (zip bomb?)`,
      );
    }
  }
}

export function npzTable(
  bytes: Uint8Array,
  file: string,
  options: LoadOptions = {},
  maxInflated = MAX_INFLATED_BYTES,
): Table {
  const entries = listEntries(bytes, file);
  if (entries.length === 0) throw new InputError(`${file}: the archive holds no arrays; expected X and y`);
  const chosen = pick(entries, file, options);
  checkDeclaredSizes(file, chosen, maxInflated);
  const raw = inflateEntries(bytes, file, chosen);
  const arrays = chosen.map((e) => parseNpy(raw.get(e.name)!, `${file}: array '${e.array}'`));
  const [first] = chosen;
  if (chosen.length === 2) return featuresAndTarget(file, options, first.array, arrays[0], chosen[1].array, arrays[1]);
  if (first.array === 'X' || first.array === options.xArray)
    return featuresAndTarget(file, options, first.array, arrays[0]);
  return matrixTable(arrays[0], file, `${file}: array '${first.array}'`, `array '${first.array}' `);
}

/** Columns x0, x1, ... from X and, when there is one, the target column named after the y array. */
function featuresAndTarget(
  file: string,
  options: LoadOptions,
  xName: string,
  X: NpyArray,
  yName?: string,
  y?: NpyArray,
): Table {
  if (X.shape.length < 1 || X.shape.length > 4) {
    throw new InputError(
      `${file}: array '${xName}' has shape ${shapeText(X.shape)}; expected a 2-D array (rows x features) or images (N, C, H, W), (N, H, W) or (N, H, W, C)`,
    );
  }
  if (y && !(y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1))) {
    throw new InputError(
      `${file}: array '${yName}' has shape ${shapeText(y.shape)}; expected one target value per row (shape (n,) or (n, 1))`,
    );
  }
  const rows = X.shape[0];
  const d = X.shape.slice(1).reduce((a, b) => a * b, 1);
  // Images: the columns are the pixels in (C, H, W) order whatever the array's layout.
  const image =
    X.shape.length > 2 ? arrayImageLayout(X.shape, options.channelsLast, `${file}: array '${xName}'`) : null;
  const pixels = image?.channelsLast ? channelsLastToFirst(X.data, rows, image.imageShape) : X.data;
  if (y && y.shape[0] !== rows)
    throw new InputError(
      `${file}: array '${yName}' has ${y.shape[0]} rows but '${xName}' has ${rows}; expected one target per row`,
    );
  const source = { file, rowLabel };
  const columns = Array.from({ length: d }, (_, j) => {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) values[i] = pixels[i * d + j];
    return numericColumn(`x${j}`, `array '${xName}' ${image ? 'pixel' : 'column'} ${j} (0-based)`, values, source);
  });
  const shape = image ? { imageShape: image.imageShape } : {};
  if (!y || yName === undefined) return { ...source, rows, columns, ...shape };
  columns.push(numericColumn(yName, `array '${yName}'`, y.data, source));
  return { ...source, rows, columns, fixedTarget: yName, ...shape };
}
