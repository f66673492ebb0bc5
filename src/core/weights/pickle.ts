// A restricted pickle reader for PyTorch checkpoints. It interprets opcodes as data only: plain Python
// values (dict, list, tuple, set, int, float, str, bytes, bool, None) become JS values, and the only
// callables it knows are a fixed allow-list (OrderedDict, torch's tensor rebuild functions, and what
// pickle protocol 2 needs to spell a set, a bytes object or a torch.Size), each modelled here without
// running anything. Any other global (os.system, builtins.eval, a user's class...) and the
// object-building opcodes (INST, OBJ, NEWOBJ, EXT*) stop parsing with an InputError.
import { InputError } from '../errors';
import { PICKLE_LIMITS, Pacer, type ReadOptions } from './budget';
import type { DType } from './types';

export class PyTuple {
  constructor(
    readonly items: PyValue[],
    readonly pyType: 'tuple' | 'Size' = 'tuple',
  ) {}
}
export class PyDict {
  readonly entries: [PyValue, PyValue][] = [];
  /** Instance attributes set by BUILD (a state_dict's `_metadata`: module versions). */
  attributes: PyDict | null = null;
  constructor(readonly pyType: 'dict' | 'OrderedDict' = 'dict') {}
}
/** A Python float: kept apart from ints (plain JS numbers) so tensor sizes cannot be floats and types can be named. */
export class PyFloat {
  constructor(readonly value: number) {}
}
export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A storage referenced by persistent id ('storage', torch.XStorage, key, location, numel). */
export class StorageRef {
  constructor(
    readonly dtype: DType,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}
/** Ints are numbers when they fit in a double exactly, else bigints. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | PyFloat
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | StorageRef
  | TensorRef;

/** Storage classes torch.save names in persistent ids, by their element type. */
export const TORCH_STORAGES: Record<string, DType> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/**
 * The allow-list, and all torch.save (PyTorch 1.13, protocol 2) writes for a checkpoint of state_dicts,
 * optimiser state and plain values: `__builtin__.set` and `_codecs.encode` are how protocol 2 spells a
 * set and a bytes object; `torch.Size` pickles as a call on a tuple.
 */
const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch.Size',
  'builtins.set',
  'builtins.frozenset',
  '__builtin__.set',
  '__builtin__.frozenset',
  '_codecs.encode',
]);

function allowedGlobal(module: string, name: string): boolean {
  const q = `${module}.${name}`;
  return CALLABLES.has(q) || (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_STORAGES, name));
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Parses `data` (a pickle, protocol 0-5 subset) and returns the top-level object, in one synchronous run. */
export function parseTorchPickle(data: Uint8Array, label: string): PyValue {
  const machine = pickleMachine(data, label);
  for (;;) {
    const r = machine.next();
    if (r.done) return r.value;
  }
}

/**
 * The same parse, handing the event loop back every few milliseconds (the extension host runs it).
 * Both stop with an InputError naming the limit once the work budget (PICKLE_LIMITS) is spent.
 */
export async function parseTorchPickleAsync(data: Uint8Array, label: string, options?: ReadOptions): Promise<PyValue> {
  const pacer = new Pacer({ ...options, clockEvery: 1 });
  const machine = pickleMachine(data, label);
  for (;;) {
    const r = machine.next();
    if (r.done) return r.value;
    await pacer.tick();
  }
}

/** Ops between the machine's pauses (each a chance for the async driver to yield). */
const OPS_PER_STEP = 2048;
/** Items moved into a container between pauses. */
const ITEMS_PER_STEP = 32768;

function* pickleMachine(data: Uint8Array, label: string): Generator<void, PyValue, void> {
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const fail = (what: string): never => {
    throw new InputError(`${label}: ${what}`);
  };
  const refuse = (what: string): never =>
    fail(
      `refusing to load: ${what}. Only PyTorch state_dicts (tensors, OrderedDict, plain containers) are read, and the file is never executed`,
    );
  if (data.length > PICKLE_LIMITS.maxBytes)
    fail(
      `the pickle is ${data.length} bytes, more than the ${PICKLE_LIMITS.maxBytes}-byte limit for a checkpoint's structure (tensor data is stored apart); save a state_dict or use safetensors`,
    );
  let work = 0;
  let objects = 0;
  const overBudget = (): never =>
    fail(
      work > PICKLE_LIMITS.maxWork
        ? `the pickle needs more than ${PICKLE_LIMITS.maxWork} steps (the work budget for a checkpoint's structure); not a PyTorch state_dict`
        : `the pickle builds more than ${PICKLE_LIMITS.maxObjects} values (the budget for a checkpoint's structure); not a PyTorch state_dict`,
    );
  /** Charges `n` steps of work and `made` new values or container slots. */
  const charge = (n: number, made = 0): void => {
    work += n;
    objects += made;
    if (work > PICKLE_LIMITS.maxWork || objects > PICKLE_LIMITS.maxObjects) overBudget();
  };
  const text = new TextDecoder('utf-8');
  const stack: StackItem[] = [];
  /** Stack positions of the MARKs, so finding the topmost one is O(1). */
  const marks: number[] = [];
  const push = (v: StackItem): void => {
    objects++;
    stack.push(v);
  };
  const memo = new Map<number, PyValue>();
  let pos = 0;

  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) fail(`pickle is truncated at byte ${pos}`);
  };
  const u8 = (): number => {
    need(1);
    return data[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length field out of range');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text field in pickle');
    const s = text.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail(`pickle stack underflow at byte ${pos}`);
    stack.pop();
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail(`pickle stack underflow at byte ${pos}`);
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const at = marks.pop();
    if (at === undefined) return fail(`pickle MARK missing at byte ${pos}`);
    charge(stack.length - at);
    const items = stack.splice(at + 1) as PyValue[];
    stack.pop(); // the MARK
    return items;
  };
  const int = (v: bigint): number | bigint =>
    v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? v : Number(v);
  const littleInt = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    // A Python int of any size is legal data; only a pathological length is refused.
    if (b.length > 4096) fail(`integer of ${b.length} bytes`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };
  const textInt = (s: string, what: string): number | bigint => {
    if (!/^[+-]?\d{1,4096}$/.test(s)) fail(`bad ${what} '${s.slice(0, 40)}'`);
    return int(BigInt(s));
  };
  const global = (module: string, name: string): PyGlobal => {
    if (!allowedGlobal(module, name)) {
      // A whole pickled nn.Module names its classes: tell the user how to get a readable file.
      const hint = /^(torch\.nn\.|__main__$)/.test(module)
        ? ' (the file holds a whole model object; save model.state_dict() instead)'
        : module === 'argparse' || module === 'numpy' || module.startsWith('numpy.')
          ? ' (store plain Python values in the checkpoint, e.g. vars(args) or float(x))'
          : '';
      refuse(`the pickle references the global '${module}.${name}', which is not part of a PyTorch checkpoint${hint}`);
    }
    return new PyGlobal(module, name);
  };
  // Moving items into a container is the one opcode whose work is not bounded by its bytes: done in
  // steps (the generator pauses between them) and one item at a time (spreading 300k items as call
  // arguments overflows the stack).
  function* setItems(target: PyValue, kv: PyValue[]): Generator<void, void, void> {
    if (!(target instanceof PyDict)) fail('SETITEM on something that is not a dict');
    charge(kv.length, kv.length >> 1);
    const entries = (target as PyDict).entries;
    for (let i = 0; i + 1 < kv.length; i += 2) {
      entries.push([kv[i], kv[i + 1]]);
      if (i % ITEMS_PER_STEP === ITEMS_PER_STEP - 2) yield;
    }
  }
  function* appendItems(target: PyValue, items: PyValue[]): Generator<void, void, void> {
    if (!Array.isArray(target)) fail('APPEND on something that is not a list');
    charge(items.length, items.length);
    const list = target as PyValue[];
    for (let i = 0; i < items.length; i++) {
      list.push(items[i]);
      if (i % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
    }
  }
  const intsOf = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0))
      fail(`tensor ${what} is not a tuple of non-negative integers`);
    return (v as PyTuple).items as number[];
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal) || !CALLABLES.has(fn.qualified)) {
      return refuse(
        `the pickle calls ${fn instanceof PyGlobal ? `'${fn.qualified}'` : 'a non-function object'}, which is not a tensor rebuild function`,
      );
    }
    if (!(args instanceof PyTuple)) return fail(`arguments to ${fn.qualified} are not a tuple`);
    const a = args.items;
    switch (fn.qualified) {
      case 'collections.OrderedDict':
        if (a.length !== 0) fail('OrderedDict built from arguments (expected an empty call followed by SETITEMS)');
        return new PyDict('OrderedDict');
      case 'torch.Size':
        if (a.length !== 1 || !(a[0] instanceof PyTuple))
          return fail('torch.Size built from something other than one tuple');
        return new PyTuple(a[0].items, 'Size');
      case 'builtins.set':
      case 'builtins.frozenset':
      case '__builtin__.set':
      case '__builtin__.frozenset':
        if (a.length > 1 || (a.length === 1 && !Array.isArray(a[0])))
          return fail(`${fn.qualified} built from something other than a list`);
        if (a.length) charge((a[0] as PyValue[]).length, (a[0] as PyValue[]).length);
        return new PySet(a.length ? (a[0] as PyValue[]).slice() : [], fn.name === 'frozenset');
      case '_codecs.encode': {
        // Protocol 2's bytes: encode(text with one code point per byte, 'latin1').
        const [s, enc] = a;
        if (a.length !== 2 || typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1'))
          return fail("_codecs.encode other than (str, 'latin1') (protocol 2 bytes)");
        charge(s.length);
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 255) return fail('_codecs.encode of a character outside latin1');
          out[i] = c;
        }
        return out;
      }
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = a;
        if (!(storage instanceof StorageRef)) return fail('_rebuild_tensor_v2 without a storage');
        if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
          return fail('_rebuild_tensor_v2 with a bad storage offset');
        const shape = intsOf(size, 'size');
        const strides = intsOf(stride, 'stride');
        if (shape.length !== strides.length)
          fail(`tensor size (${shape.length} dims) and stride (${strides.length} dims) disagree`);
        return new TensorRef(storage, offset, shape, strides);
      }
      case 'torch._utils._rebuild_parameter': {
        if (!(a[0] instanceof TensorRef)) return fail('_rebuild_parameter without a tensor');
        return a[0];
      }
    }
    return fail(`unhandled call ${fn.qualified}`);
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5)
      return refuse('a persistent id that is not a torch storage reference');
    const [, cls, key, location, count] = pid.items;
    if (!(cls instanceof PyGlobal) || cls.module !== 'torch' || !TORCH_STORAGES[cls.name])
      return refuse('a storage of unknown type');
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key))
      return fail(`storage key ${JSON.stringify(key)} is not a plain name`);
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)
      return fail('storage size is not a non-negative integer');
    return new StorageRef(TORCH_STORAGES[cls.name], key, typeof location === 'string' ? location : 'cpu', count);
  };

  for (let ops = 1; ; ops++) {
    if (ops % OPS_PER_STEP === 0) {
      charge(OPS_PER_STEP);
      yield;
    }
    if (pos >= data.length) fail('pickle ends without STOP');
    const at = pos;
    const op = data[pos++];
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        u64();
        break; // FRAME: framing is transparent to a reader holding all bytes
      case 0x2e: {
        // STOP
        const result = pop();
        return result;
      }
      case 0x28:
        marks.push(stack.length);
        push(MARK);
        break;
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        push(top());
        break; // DUP
      case 0x4e:
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4a:
        push(i32());
        break; // BININT
      case 0x4b:
        push(u8());
        break; // BININT1
      case 0x4d:
        push(u16());
        break; // BININT2
      case 0x8a:
        push(littleInt(bytes(u8())));
        break; // LONG1
      case 0x8b: {
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        push(littleInt(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text): also encodes True/False as 01/00 in protocol 0
        const s = line();
        if (s === '01' || s === '00') push(s === '01');
        else push(textInt(s, 'INT'));
        break;
      }
      case 0x4c:
        push(textInt(line().replace(/L$/, ''), 'LONG'));
        break;
      case 0x47: {
        need(8);
        push(new PyFloat(dv.getFloat64(pos, false)));
        pos += 8;
        break;
      } // BINFLOAT is big-endian
      case 0x46: {
        const s = line();
        const n = Number(s);
        if (Number.isNaN(n) && !/^[+-]?nan$/i.test(s)) fail(`bad FLOAT '${s.slice(0, 40)}'`);
        push(new PyFloat(n));
        break;
      } // FLOAT (text)
      case 0x58:
        push(text.decode(bytes(u32())));
        break; // BINUNICODE
      case 0x8c:
        push(text.decode(bytes(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        push(text.decode(bytes(u64())));
        break; // BINUNICODE8
      case 0x54: {
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        push(new TextDecoder('latin1').decode(bytes(n)));
        break;
      }
      case 0x55:
        push(new TextDecoder('latin1').decode(bytes(u8())));
        break; // SHORT_BINSTRING
      case 0x42:
        push(bytes(u32()).slice());
        break; // BINBYTES
      case 0x43:
        push(bytes(u8()).slice());
        break; // SHORT_BINBYTES
      case 0x8e:
        push(bytes(u64()).slice());
        break; // BINBYTES8
      case 0x96:
        push(bytes(u64()).slice());
        break; // BYTEARRAY8
      case 0x29:
        push(new PyTuple([]));
        break;
      case 0x74:
        push(new PyTuple(popMark()));
        break;
      case 0x85: {
        const a = pop();
        push(new PyTuple([a]));
        break;
      }
      case 0x86: {
        const b = pop();
        const a = pop();
        push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d:
        push([]);
        break; // EMPTY_LIST
      case 0x6c:
        push(popMark());
        break; // LIST
      case 0x61: {
        const v = pop();
        yield* appendItems(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        yield* appendItems(top(), items);
        break;
      } // APPENDS
      case 0x8f:
        push(new PySet([], false));
        break; // EMPTY_SET
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const t = top();
        if (!(t instanceof PySet) || t.frozen) fail('ADDITEMS on something that is not a set');
        charge(items.length, items.length);
        for (let i = 0; i < items.length; i++) (t as PySet).items.push(items[i]);
        break;
      }
      case 0x91:
        push(new PySet(popMark(), true));
        break; // FROZENSET
      case 0x7d:
        push(new PyDict());
        break; // EMPTY_DICT
      case 0x64: {
        const d = new PyDict();
        yield* setItems(d, popMark());
        push(d);
        break;
      } // DICT
      case 0x73: {
        const v = pop();
        const k = pop();
        yield* setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        yield* setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x63: {
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const fn = pop();
        push(call(fn, args));
        break;
      } // REDUCE
      case 0x62: {
        // BUILD: only attribute dicts on OrderedDicts (a state_dict's _metadata) are accepted
        const state = pop();
        const target = top();
        if (
          !(target instanceof PyDict) ||
          target.pyType !== 'OrderedDict' ||
          !(state instanceof PyDict || state === null)
        )
          refuse('BUILD sets state on an object that is not an OrderedDict');
        if (state instanceof PyDict) (target as PyDict).attributes = state;
        break;
      }
      case 0x51:
        push(persistent(pop()));
        break; // BINPERSID
      case 0x50:
        refuse('a text persistent id (legacy format)');
        break;
      case 0x70:
        memo.set(Number(line()), top());
        break; // PUT
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x67:
      case 0x68:
      case 0x6a: {
        // GET, BINGET, LONG_BINGET
        const k = op === 0x67 ? Number(line()) : op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`pickle refers to memo entry ${k} that was never stored`);
        push(memo.get(k) as PyValue);
        break;
      }
      case 0x69:
        refuse('the INST opcode (creates an arbitrary object)');
        break;
      case 0x6f:
        refuse('the OBJ opcode (creates an arbitrary object)');
        break;
      case 0x81:
        refuse('the NEWOBJ opcode (creates an arbitrary object)');
        break;
      case 0x92:
        refuse('the NEWOBJ_EX opcode (creates an arbitrary object)');
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        refuse('extension-registry opcodes (EXT1/2/4)');
        break;
      case 0x97:
      case 0x98:
        refuse('out-of-band buffers');
        break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}

/** The Python type of a parsed value, as `type(x).__name__` would name it. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return v.pyType;
  if (v instanceof PyDict) return v.pyType;
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyGlobal) return 'type';
  if (v instanceof StorageRef) return 'torch.storage';
  return 'torch.Tensor';
}

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mant.startsWith('-') ? '-' : '';
  const digits = mant.replace(/^-/, '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${int}.${frac || '0'}`;
}

/**
 * A short Python-like repr of `v`, at most about `limit` characters (longer ones end in '…'); the walk
 * stops as soon as the limit is reached, so a huge list costs no more than a short one.
 */
export function pyRepr(v: PyValue, limit = 80): string {
  let out = '';
  const seen = new Set<object>();
  const put = (s: string): boolean => {
    out += s;
    return out.length <= limit;
  };
  // Python's choice of quotes: single unless the text has a single quote and no double one.
  const quoted = (body: string, raw: string): string => {
    const q = raw.includes("'") && !raw.includes('"') ? '"' : "'";
    return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  };
  const escape = (c: number, ch: string): string =>
    ch === '\\'
      ? '\\\\'
      : c === 10
        ? '\\n'
        : c === 13
          ? '\\r'
          : c === 9
            ? '\\t'
            : c < 0x20 || c === 0x7f
              ? `\\x${c.toString(16).padStart(2, '0')}`
              : ch;
  const str = (s: string): string => quoted(Array.from(s, (ch) => escape(ch.codePointAt(0)!, ch)).join(''), s);
  const byteStr = (b: Uint8Array): string => {
    const raw = String.fromCharCode(...b);
    return `b${quoted(Array.from(b, (c) => (c >= 0x80 ? `\\x${c.toString(16)}` : escape(c, String.fromCharCode(c)))).join(''), raw)}`;
  };
  const seq = (open: string, items: PyValue[], close: string, one = false): boolean => {
    if (!put(open)) return false;
    for (let i = 0; i < items.length; i++) {
      if (i && !put(', ')) return false;
      if (!walk(items[i])) return false;
    }
    return put(one && items.length === 1 ? `,${close}` : close);
  };
  const walk = (x: PyValue): boolean => {
    if (x === null) return put('None');
    if (typeof x === 'boolean') return put(x ? 'True' : 'False');
    if (typeof x === 'number' || typeof x === 'bigint') return put(String(x));
    if (typeof x === 'string') return put(str(x.length > limit ? x.slice(0, limit + 1) : x));
    if (x instanceof PyFloat) return put(pyFloatRepr(x.value));
    if (x instanceof Uint8Array) return put(byteStr(x.subarray(0, limit + 1)));
    if (x instanceof PyGlobal) return put(`<class '${x.qualified}'>`);
    if (x instanceof StorageRef) return put(`<storage ${x.dtype} ×${x.numel}>`);
    if (x instanceof TensorRef) return put(`tensor(${x.storage.dtype}, [${x.shape.join(', ')}])`);
    if (seen.has(x)) return put('[...]');
    seen.add(x);
    try {
      if (Array.isArray(x)) return seq('[', x, ']');
      if (x instanceof PyTuple)
        return x.pyType === 'Size' ? seq('torch.Size([', x.items, '])') : seq('(', x.items, ')', true);
      if (x instanceof PySet)
        return x.items.length
          ? seq(x.frozen ? 'frozenset({' : '{', x.items, x.frozen ? '})' : '}')
          : put(x.frozen ? 'frozenset()' : 'set()');
      // OrderedDict as Python 3.12 writes it.
      if (!put(x.pyType === 'OrderedDict' ? 'OrderedDict({' : '{')) return false;
      for (let i = 0; i < x.entries.length; i++) {
        if (i && !put(', ')) return false;
        if (!walk(x.entries[i][0]) || !put(': ') || !walk(x.entries[i][1])) return false;
      }
      return put(x.pyType === 'OrderedDict' ? '})' : '}');
    } finally {
      seen.delete(x);
    }
  };
  return walk(v) ? out : `${out.slice(0, limit)}…`;
}
