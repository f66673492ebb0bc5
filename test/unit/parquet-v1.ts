// A minimal Parquet writer of version-1 data pages (the fixtures, from hyparquet-writer, hold only v2
// pages): thrift compact structs written by hand, so page checks are tested on the layout pyarrow and
// Spark write by default. Columns: x DOUBLE OPTIONAL [1.5, null, 3], y DOUBLE [10, 20, 30], b BOOLEAN
// (RLE) [true, true, true], s BYTE_ARRAY dictionary-encoded ['a', 'b', 'a'].

type Field = [id: number, type: number, value: unknown];

const bytesOf = (...parts: (number[] | Uint8Array)[]): Uint8Array => {
  const out: number[] = [];
  for (const p of parts) out.push(...p);
  return new Uint8Array(out);
};
const varint = (v: number): number[] => {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const zz = (v: number) => varint(v >= 0 ? v * 2 : -v * 2 - 1);
const le32 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
const f64 = (...vs: number[]) => new Uint8Array(new Float64Array(vs).buffer);
const I32 = 5,
  I64 = 6,
  BIN = 8,
  LIST = 9,
  STRUCT = 12;

function value(type: number, v: unknown): number[] {
  if (type === I32 || type === I64) return zz(v as number);
  if (type === BIN) {
    const b = new TextEncoder().encode(v as string);
    return [...varint(b.length), ...b];
  }
  if (type === STRUCT) return struct(v as Field[]);
  if (type === LIST) {
    const [elem, items] = v as [number, unknown[]];
    return [(items.length << 4) | elem, ...items.flatMap((i) => value(elem, i))];
  }
  throw new Error(`type ${type}`);
}
function struct(fields: Field[]): number[] {
  const out: number[] = [];
  let last = 0;
  for (const [id, type, v] of fields) {
    out.push(((id - last) << 4) | type, ...value(type, v));
    last = id;
  }
  return [...out, 0];
}

const page = (type: number, body: Uint8Array, header: Field, uncompressed = body.length): Uint8Array =>
  bytesOf(struct([[1, I32, type], [2, I32, uncompressed], [3, I32, body.length], header]), body);
const dataPage = (n: number, encoding: number, body: Uint8Array, uncompressed?: number) =>
  page(
    0,
    body,
    [
      5,
      STRUCT,
      [
        [1, I32, n],
        [2, I32, encoding],
        [3, I32, 3],
        [4, I32, 3],
      ],
    ],
    uncompressed,
  );

/** Snappy framing of literal runs only (valid Snappy, no compression). */
function snappyLiteral(raw: Uint8Array): Uint8Array {
  const out = [...varint(raw.length)];
  for (let i = 0; i < raw.length; i += 60) {
    const chunk = raw.subarray(i, i + 60);
    out.push((chunk.length - 1) << 2, ...chunk);
  }
  return new Uint8Array(out);
}

/** `damage` rewrites a column's raw (uncompressed) data-page body before it is written. */
export function parquetV1(
  codec: 'UNCOMPRESSED' | 'SNAPPY',
  damage?: (column: string, body: Uint8Array) => Uint8Array,
): Uint8Array {
  const pack = (raw: Uint8Array) => (codec === 'SNAPPY' ? snappyLiteral(raw) : raw);
  const columns: { name: string; type: number; optional: boolean; dict?: Uint8Array; body: Uint8Array; enc: number }[] =
    [
      // definition levels: length 2, bit-packed group (header 3) of 1,0,1; then the two present doubles
      { name: 'x', type: 5, optional: true, body: bytesOf(le32(2), [3, 0b101], f64(1.5, 3)), enc: 0 },
      { name: 'y', type: 5, optional: false, body: f64(10, 20, 30), enc: 0 },
      // RLE booleans: length 2, one RLE run of 3 (header 6) of value 1
      { name: 'b', type: 0, optional: false, body: bytesOf(le32(2), [6, 1]), enc: 3 },
      // dictionary ['a', 'b'], indices of 1 bit: bit-packed group of 0,1,0
      {
        name: 's',
        type: 6,
        optional: false,
        dict: bytesOf(le32(1), [97], le32(1), [98]),
        body: bytesOf([1, 3, 0b010]),
        enc: 2,
      },
    ];
  const parts: Uint8Array[] = [new TextEncoder().encode('PAR1')];
  let at = 4;
  const chunks: Field[][] = [];
  for (const c of columns) {
    const start = at;
    let dictOffset: number | undefined;
    let uncompressed = 0;
    const add = (p: Uint8Array, raw: number) => {
      parts.push(p);
      at += p.length;
      uncompressed += raw;
    };
    if (c.dict) {
      dictOffset = at;
      const body = pack(c.dict);
      add(
        page(
          2,
          body,
          [
            7,
            STRUCT,
            [
              [1, I32, 2],
              [2, I32, 0],
            ],
          ],
          c.dict.length,
        ),
        c.dict.length + 16,
      );
    }
    const dataOffset = at;
    const raw = damage ? damage(c.name, c.body) : c.body;
    add(dataPage(3, c.enc, pack(raw), raw.length), raw.length + 16);
    const meta: Field[] = [
      [1, I32, c.type],
      [2, LIST, [I32, c.dict ? [0, 3, 2] : [0, 3]]],
      [3, LIST, [BIN, [c.name]]],
      [4, I32, codec === 'SNAPPY' ? 1 : 0],
      [5, I64, 3],
      [6, I64, uncompressed + 64],
      [7, I64, at - start],
      [9, I64, dataOffset],
    ];
    if (dictOffset !== undefined) meta.push([11, I64, dictOffset]);
    chunks.push([
      [2, I64, start],
      [3, STRUCT, meta],
    ]);
  }
  const schema: Field[][] = [
    [
      [4, BIN, 'schema'],
      [5, I32, columns.length],
    ],
    ...columns.map((c): Field[] => [
      [1, I32, c.type],
      [3, I32, c.optional ? 1 : 0],
      [4, BIN, c.name],
    ]),
  ];
  const footer = new Uint8Array(
    struct([
      [1, I32, 1],
      [2, LIST, [STRUCT, schema]],
      [3, I64, 3],
      [
        4,
        LIST,
        [
          STRUCT,
          [
            [
              [1, LIST, [STRUCT, chunks]],
              [2, I64, at],
              [3, I64, 3],
            ],
          ],
        ],
      ],
    ]),
  );
  return bytesOf(...parts, footer, le32(footer.length), new TextEncoder().encode('PAR1'));
}
