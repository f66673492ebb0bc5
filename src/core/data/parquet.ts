// Parquet through hyparquet: flat columns of numbers, booleans or strings become the same raw table as a
// CSV, so categorical and target handling stay in table.ts.
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import { InputError } from '../errors';
import { checkTableSize } from '../limits';
import { checkParquetPages } from './parquet-pages';
import { ColumnBuilder, type Table } from './table';

type Chunk = { rowStart: number; values: ArrayLike<unknown> };

function describe(v: unknown): string {
  if (v instanceof Date) return 'dates';
  if (v instanceof Uint8Array) return 'binary values';
  return Array.isArray(v) ? 'lists' : `${typeof v} values`;
}

export async function parquetTable(bytes: Uint8Array, file: string): Promise<Table> {
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (new Uint8Array(bytes).buffer as ArrayBuffer); // a copy even for a Node Buffer, whose slice() is a view
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(buffer);
  } catch (e) {
    throw new InputError(`${file}: not a readable Parquet file (${(e as Error).message}); expected Apache Parquet`);
  }
  const rows = Number(metadata.num_rows);
  const fields = parquetSchema(metadata).children;
  for (const f of fields) {
    if (f.children.length > 0)
      throw new InputError(
        `${file}: column '${f.element.name}' is nested (a struct, list or map); expected flat columns of numbers or strings`,
      );
  }
  if (fields.length === 0) throw new InputError(`${file}: has no columns`);
  // The footer declares the rows: checked before a single page is decoded.
  checkTableSize(file, rows, fields.length, 'write fewer rows (e.g. df.sample(n=100000).to_parquet(...))');
  const names = fields.map((f) => f.element.name);
  // hyparquet trusts the run lengths inside pages (a damaged one loops for billions of values): every page
  // is checked against the footer's row counts and chunk sizes first.
  checkParquetPages(
    new Uint8Array(buffer),
    metadata,
    new Map(fields.map((f) => [f.element.name, f.element.repetition_type !== 'REQUIRED'])),
    file,
  );
  const chunks = new Map<string, Chunk[]>(names.map((n) => [n, []]));
  try {
    await parquetRead({
      file: buffer,
      columns: names,
      onChunk: ({ columnName, columnData, rowStart }) => chunks.get(columnName)?.push({ rowStart, values: columnData }),
    });
  } catch (e) {
    throw new InputError(`${file}: could not read the Parquet data (${(e as Error).message})`);
  }

  const source = { file, rowLabel: (i: number) => `row ${i + 1}` };
  const columns = names.map((name) => {
    const b = new ColumnBuilder(name, `column '${name}'`, source);
    for (const chunk of chunks.get(name)!.sort((p, q) => p.rowStart - q.rowStart)) {
      if (chunk.rowStart !== b.length)
        throw new InputError(`${file}: column '${name}' has a gap in its row groups at row ${b.length + 1}`);
      for (let i = 0; i < chunk.values.length; i++) {
        const v = chunk.values[i];
        if (v === null || v === undefined) b.pushMissing('null');
        else if (typeof v === 'number') b.pushNumber(v);
        else if (typeof v === 'bigint') b.pushNumber(Number(v));
        else if (typeof v === 'boolean') b.pushNumber(v ? 1 : 0);
        else if (typeof v === 'string') b.pushText(v, false);
        else
          throw new InputError(
            `${file}: row ${b.length + 1}, column '${name}' holds ${describe(v)}; expected numbers, booleans or strings`,
          );
      }
    }
    if (b.length !== rows)
      throw new InputError(`${file}: column '${name}' has ${b.length} values but the file declares ${rows} rows`);
    return b.finish();
  });
  return { ...source, rows, columns };
}
