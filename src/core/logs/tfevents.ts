import { DT, eventTypes } from './eventSchema';
import { maskedCrc32c } from './crc32c';
import type { LogProblem, LogReader, PushResult, ScalarPoint } from './types';

// TFRecord framing: uint64 length (LE), uint32 masked CRC32C of those 8 bytes, `length` data bytes,
// uint32 masked CRC32C of the data.
const HEADER = 12;
const FOOTER = 4;
// A scalar event is tens of bytes; a length beyond this with a valid CRC is far likelier corruption than data.
const MAX_RECORD = 1 << 30;

interface DecodedValue {
  tag?: string;
  value?: string;
  simple_value?: number;
  tensor?: {
    dtype?: number;
    tensor_content?: Uint8Array;
    half_val?: number[];
    float_val?: number[];
    double_val?: number[];
    int_val?: number[];
    int64_val?: number[];
  };
}

interface DecodedEvent {
  wall_time?: number;
  step?: number;
  summary?: { value?: DecodedValue[] };
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bfloat16ToNumber(bits: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, (bits & 0xffff) << 16);
  return buf.getFloat32(0);
}

/** The single number in a scalar tensor, or undefined for anything else (images, histograms, text). */
export function tensorScalar(t: NonNullable<DecodedValue['tensor']>): number | undefined {
  const dtype = t.dtype ?? 0;
  const content = t.tensor_content;
  if (content && content.length > 0) {
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    switch (dtype) {
      case DT.FLOAT:
        return content.length === 4 ? view.getFloat32(0, true) : undefined;
      case DT.DOUBLE:
        return content.length === 8 ? view.getFloat64(0, true) : undefined;
      case DT.INT32:
        return content.length === 4 ? view.getInt32(0, true) : undefined;
      case DT.INT64:
        return content.length === 8 ? Number(view.getBigInt64(0, true)) : undefined;
      case DT.HALF:
        return content.length === 2 ? halfToNumber(view.getUint16(0, true)) : undefined;
      case DT.BFLOAT16:
        return content.length === 2 ? bfloat16ToNumber(view.getUint16(0, true)) : undefined;
      default:
        return undefined;
    }
  }
  const single = (xs: number[] | undefined) => (xs && xs.length === 1 ? Number(xs[0]) : undefined);
  switch (dtype) {
    case DT.FLOAT:
      return single(t.float_val);
    case DT.DOUBLE:
      return single(t.double_val);
    case DT.INT32:
      return single(t.int_val);
    case DT.INT64:
      return single(t.int64_val);
    case DT.HALF: {
      const h = single(t.half_val);
      return h === undefined ? undefined : halfToNumber(h);
    }
    case DT.BFLOAT16: {
      const h = single(t.half_val);
      return h === undefined ? undefined : bfloat16ToNumber(h);
    }
    default:
      return undefined;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Reads TensorBoard event files (`events.out.tfevents.*`): scalar summaries in simple_value and tensor form. */
export class TfEventsReader implements LogReader {
  readonly kind = 'tfevents' as const;
  readonly stepSource = 'event step';
  private pending: Uint8Array = new Uint8Array(0);
  /** File offset of pending[0]. */
  private offset = 0;
  private readonly seen = new Set<string>();
  private readonly tagList: string[] = [];
  /** True while scanning for the next valid header after a corrupt length field. */
  private resyncing = false;
  /** Set by finish(): no more bytes will come, so a record longer than what is left is a bogus length. */
  private ended = false;

  get tags(): readonly string[] {
    return this.tagList;
  }
  get bytesRead(): number {
    return this.offset + this.pending.length;
  }

  push(bytes: Uint8Array): PushResult {
    this.pending = concat(this.pending, bytes);
    const points: ScalarPoint[] = [];
    const problems: LogProblem[] = [];
    const buf = this.pending;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    while (buf.length - pos >= HEADER) {
      const lengthCrc = view.getUint32(pos + 8, true);
      if (maskedCrc32c(buf, pos, pos + 8) !== lengthCrc) {
        if (!this.resyncing) {
          problems.push({
            byteOffset: this.offset + pos,
            message: `corrupt record header at byte ${this.offset + pos} (length CRC mismatch); skipping to the next valid record`,
          });
          this.resyncing = true;
        }
        pos++;
        continue;
      }
      const length = Number(view.getBigUint64(pos, true));
      if (length > MAX_RECORD) {
        problems.push({
          byteOffset: this.offset + pos,
          message: `record at byte ${this.offset + pos} claims ${length} bytes; skipping to the next valid record`,
        });
        this.resyncing = true;
        pos++;
        continue;
      }
      if (buf.length - pos < HEADER + length + FOOTER) {
        if (!this.ended) break;
        // A length whose own CRC is valid but that runs past the end of the file: a bogus length (or a
        // record cut off). Scanning on from the next byte finds the records it would otherwise hide.
        if (!this.resyncing)
          problems.push({
            byteOffset: this.offset + pos,
            message: `truncated record at byte ${this.offset + pos}: the file ends ${buf.length - pos} bytes into it (its header claims ${length} data bytes; if that length is bogus, later records are still read: scanning on from the next byte)`,
          });
        this.resyncing = true;
        pos++;
        continue;
      }
      const start = pos + HEADER;
      const end = start + length;
      if (maskedCrc32c(buf, start, end) !== view.getUint32(end, true)) {
        if (!this.resyncing)
          problems.push({
            byteOffset: this.offset + pos,
            message: `corrupt record at byte ${this.offset + pos} (data CRC mismatch, ${length} bytes); skipped`,
          });
        // The length may be the corrupt part: scan on from the next byte rather than trusting it, so one
        // bad length cannot swallow the records inside the span it claims.
        this.resyncing = true;
        pos++;
        continue;
      }
      this.resyncing = false;
      this.decodeEvent(buf.subarray(start, end), this.offset + pos, points, problems);
      pos = end + FOOTER;
    }
    // Keep only the unread tail: bounded by one record, so a growing file costs only its new bytes.
    this.pending = buf.slice(pos);
    this.offset += pos;
    return { points, problems };
  }

  finish(): PushResult {
    // What is still held may start with a header whose length runs past the end: resync through it.
    this.ended = true;
    const rest = this.pending.length >= HEADER ? this.push(new Uint8Array(0)) : { points: [], problems: [] };
    const points: ScalarPoint[] = [...rest.points];
    const problems: LogProblem[] = [...rest.problems];
    if (this.pending.length > 0 && !this.resyncing) {
      problems.push({
        byteOffset: this.offset,
        message: `truncated record at byte ${this.offset}: the file ends ${this.pending.length} bytes into it`,
      });
    }
    return { points, problems };
  }

  private decodeEvent(data: Uint8Array, byteOffset: number, points: ScalarPoint[], problems: LogProblem[]): void {
    let ev: DecodedEvent;
    try {
      const { Event } = eventTypes();
      ev = Event.toObject(Event.decode(data), { longs: Number, oneofs: true, defaults: false }) as DecodedEvent;
    } catch (e) {
      problems.push({
        byteOffset,
        message: `record at byte ${byteOffset} is not a valid Event proto: ${e instanceof Error ? e.message : String(e)}`,
      });
      return;
    }
    const values = ev.summary?.value;
    if (!values) return;
    const step = ev.step ?? 0;
    for (const v of values) {
      let value: number | undefined;
      if (v.value === 'simple_value') value = v.simple_value ?? 0;
      else if (v.value === 'tensor' && v.tensor) value = tensorScalar(v.tensor);
      if (value === undefined || !v.tag) continue;
      if (!this.seen.has(v.tag)) {
        this.seen.add(v.tag);
        this.tagList.push(v.tag);
      }
      points.push({ tag: v.tag, step, value, wallTime: ev.wall_time });
    }
  }
}
