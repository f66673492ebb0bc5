// A restricted pickle reader for PyTorch state_dicts. It interprets opcodes as data only: the one
// callable objects it knows are a fixed whitelist (OrderedDict and torch's tensor rebuild functions),
// modelled here without running anything; any other global (os.system, builtins.eval, ...) and the
// object-building opcodes (INST, OBJ, NEWOBJ, EXT*) stop parsing with an InputError.
import { InputError } from '../errors';
import type { DType } from './types';

export class PyTuple { constructor(readonly items: PyValue[]) {} }
export class PyDict { readonly entries: [PyValue, PyValue][] = []; }
export class PyGlobal { constructor(readonly module: string, readonly name: string) {} get qualified(): string { return `${this.module}.${this.name}`; } }
/** A storage referenced by persistent id ('storage', torch.XStorage, key, location, numel). */
export class StorageRef { constructor(readonly dtype: DType, readonly key: string, readonly location: string, readonly numel: number) {} }
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}
export type PyValue = null | boolean | number | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | StorageRef | TensorRef;

/** Storage classes torch.save names in persistent ids, by their element type. */
export const TORCH_STORAGES: Record<string, DType> = {
  DoubleStorage: 'F64', FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

const CALLABLES = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

function allowedGlobal(module: string, name: string): boolean {
  const q = `${module}.${name}`;
  return CALLABLES.has(q) || (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_STORAGES, name));
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Parses `data` (a pickle, protocol 0-5 subset) and returns the top-level object. */
export function parseTorchPickle(data: Uint8Array, label: string): PyValue {
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const fail = (what: string): never => { throw new InputError(`${label}: ${what}`); };
  const refuse = (what: string): never => fail(`refusing to load: ${what}. Only PyTorch state_dicts (tensors, OrderedDict, plain containers) are read, and the file is never executed`);
  const text = new TextDecoder('utf-8');
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;

  const need = (n: number): void => { if (n < 0 || pos + n > data.length) fail(`pickle is truncated at byte ${pos}`); };
  const u8 = (): number => { need(1); return data[pos++]; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = (): number => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u64 = (): number => { need(8); const v = dv.getBigUint64(pos, true); pos += 8; if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length field out of range'); return Number(v); };
  const bytes = (n: number): Uint8Array => { need(n); const b = data.subarray(pos, pos + n); pos += n; return b; };
  const line = (): string => { const end = data.indexOf(0x0a, pos); if (end < 0) fail('unterminated text field in pickle'); const s = text.decode(data.subarray(pos, end)); pos = end + 1; return s; };
  const pop = (): PyValue => { const v = stack.pop(); if (v === undefined || v === MARK) fail(`pickle stack underflow at byte ${pos}`); return v as PyValue; };
  const top = (): PyValue => { const v = stack[stack.length - 1]; if (v === undefined || v === MARK) fail(`pickle stack underflow at byte ${pos}`); return v as PyValue; };
  const popMark = (): PyValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail(`pickle MARK missing at byte ${pos}`);
    const items = stack.splice(at) as StackItem[];
    return items.slice(1) as PyValue[];
  };
  const littleInt = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail('integer too large');
    return Number(v);
  };
  const global = (module: string, name: string): PyGlobal => {
    if (!allowedGlobal(module, name)) {
      // A whole pickled nn.Module names its classes: tell the user how to get a readable file.
      const hint = /^(torch\.nn\.|__main__$)/.test(module) ? " (the file holds a whole model object; save model.state_dict() instead)" : '';
      refuse(`the pickle references the global '${module}.${name}', which is not part of a PyTorch state_dict${hint}`);
    }
    return new PyGlobal(module, name);
  };
  const setItems = (target: PyValue, kv: PyValue[]): void => {
    if (!(target instanceof PyDict)) fail('SETITEM on something that is not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) (target as PyDict).entries.push([kv[i], kv[i + 1]]);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail('APPEND on something that is not a list');
    (target as PyValue[]).push(...items);
  };
  const intsOf = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) fail(`tensor ${what} is not a tuple of non-negative integers`);
    return (v as PyTuple).items as number[];
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal) || !CALLABLES.has(fn.qualified)) {
      return refuse(`the pickle calls ${fn instanceof PyGlobal ? `'${fn.qualified}'` : 'a non-function object'}, which is not a tensor rebuild function`);
    }
    if (!(args instanceof PyTuple)) return fail(`arguments to ${fn.qualified} are not a tuple`);
    const a = args.items;
    switch (fn.qualified) {
      case 'collections.OrderedDict':
        if (a.length !== 0) fail('OrderedDict built from arguments (expected an empty call followed by SETITEMS)');
        return new PyDict();
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = a;
        if (!(storage instanceof StorageRef)) return fail('_rebuild_tensor_v2 without a storage');
        if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return fail('_rebuild_tensor_v2 with a bad storage offset');
        const shape = intsOf(size, 'size');
        const strides = intsOf(stride, 'stride');
        if (shape.length !== strides.length) fail(`tensor size (${shape.length} dims) and stride (${strides.length} dims) disagree`);
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
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) return refuse('a persistent id that is not a torch storage reference');
    const [, cls, key, location, count] = pid.items;
    if (!(cls instanceof PyGlobal) || cls.module !== 'torch' || !TORCH_STORAGES[cls.name]) return refuse('a storage of unknown type');
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) return fail(`storage key ${JSON.stringify(key)} is not a plain name`);
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return fail('storage size is not a non-negative integer');
    return new StorageRef(TORCH_STORAGES[cls.name], key, typeof location === 'string' ? location : 'cpu', count);
  };

  for (;;) {
    if (pos >= data.length) fail('pickle ends without STOP');
    const at = pos;
    const op = data[pos++];
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is transparent to a reader holding all bytes
      case 0x2e: { // STOP
        const result = pop();
        return result;
      }
      case 0x28: stack.push(MARK); break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(littleInt(bytes(u8()))); break; // LONG1
      case 0x8b: { const n = i32(); if (n < 0) fail('negative LONG4 length'); stack.push(littleInt(bytes(n))); break; }
      case 0x49: { // INT (text): also encodes True/False as 01/00 in protocol 0
        const s = line();
        if (s === '01' || s === '00') stack.push(s === '01');
        else { const n = Number(s); if (!Number.isSafeInteger(n)) fail(`bad INT '${s}'`); stack.push(n); }
        break;
      }
      case 0x4c: { const s = line().replace(/L$/, ''); const n = Number(s); if (!Number.isSafeInteger(n)) fail(`bad LONG '${s}'`); stack.push(n); break; }
      case 0x47: { need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT is big-endian
      case 0x46: { const n = Number(line()); stack.push(n); break; } // FLOAT (text)
      case 0x58: stack.push(text.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x54: { const n = i32(); if (n < 0) fail('negative BINSTRING length'); stack.push(new TextDecoder('latin1').decode(bytes(n))); break; }
      case 0x55: stack.push(new TextDecoder('latin1').decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(bytes(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(bytes(u64()).slice()); break; // BYTEARRAY8
      case 0x29: stack.push(new PyTuple([])); break;
      case 0x74: stack.push(new PyTuple(popMark())); break;
      case 0x85: { const a = pop(); stack.push(new PyTuple([a])); break; }
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PyTuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PyTuple([a, b, c])); break; }
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list)
      case 0x90: { const items = popMark(); appendItems(top(), items); break; } // ADDITEMS
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(); const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x62: { // BUILD: only state dicts on dicts (OrderedDict's _metadata attribute) are accepted and dropped
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict) || !(state instanceof PyDict || state === null)) refuse('BUILD sets state on an object that is not a dict');
        break;
      }
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x50: refuse('a text persistent id (legacy format)'); break;
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: case 0x68: case 0x6a: { // GET, BINGET, LONG_BINGET
        const k = op === 0x67 ? Number(line()) : op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`pickle refers to memo entry ${k} that was never stored`);
        stack.push(memo.get(k) as PyValue);
        break;
      }
      case 0x69: refuse('the INST opcode (creates an arbitrary object)'); break;
      case 0x6f: refuse('the OBJ opcode (creates an arbitrary object)'); break;
      case 0x81: refuse('the NEWOBJ opcode (creates an arbitrary object)'); break;
      case 0x92: refuse('the NEWOBJ_EX opcode (creates an arbitrary object)'); break;
      case 0x82: case 0x83: case 0x84: refuse('extension-registry opcodes (EXT1/2/4)'); break;
      case 0x97: case 0x98: refuse('out-of-band buffers'); break;
      default: fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}
