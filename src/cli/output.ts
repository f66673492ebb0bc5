// The CLI's one way to write an output file (--json, --save-model, --out). Node only; from src/core it
// takes InputError alone. The rules live here once and every command follows them.
//
// - `-` and `/dev/stdout` mean standard output, written as a stream (never opened, renamed or replaced).
// - Otherwise the output is a new path, or an existing regular file when --force is given. A symbolic
//   link, folder, device, FIFO or socket is never written to or replaced.
// - An output that is one of the command's inputs (same file, by device and inode) is refused, as are
//   two outputs naming the same file.
// - All of this is checked before the command's work starts (including that the folder exists and is
//   writable), and again just before the write. The write goes to a temporary file in the same folder
//   which then takes the target's name: a new path with link() (fails if anything appeared meanwhile),
//   an existing file with rename(). An interrupted run leaves the target as it was.
import { randomBytes } from 'node:crypto';
import { unlinkSync, type Stats } from 'node:fs';
import { access, chmod, constants, link, lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors';

/** A problem with an output path or standard output: the user's input (exit code 1). */
export class OutputError extends InputError {}

/** The output rules as --help states them (every command with an output flag appends this). */
export const OUTPUT_RULES = `outputs (--json, --save-model, --out): - (or /dev/stdout) writes to standard output; otherwise a new
  file, or an existing regular file only with --force (replaced whole, atomically). Symbolic links,
  folders, devices and FIFOs are never written or replaced, nor any input of the command. The folder
  must exist and be writable; this is checked before any work starts.`;

/** --json OUT (with the command's own help, naming what it writes) and --force, as most commands declare them. */
export function jsonOutputOptions(help: string) {
  return {
    json: { type: 'string', arg: 'OUT', help, default: 'not written' },
    force: { type: 'boolean', help: 'replace an existing OUT', default: 'off' },
  } as const;
}

/**
 * The options of a command with a JSON report and a backend choice (the convention for new commands):
 * --backend, --json OUT (its help names the report's fields), --force, --quiet.
 */
export function reportOptions(jsonReport: string) {
  return {
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when an adapter exists, else the CPU), webgpu (f32 kernels) or cpu (float64)',
      default: 'auto',
    },
    json: {
      type: 'string',
      arg: 'OUT',
      help: `write the report ${jsonReport} (- for standard output)`,
      default: 'not written',
    },
    force: { type: 'boolean', help: 'replace an existing output file', default: 'off' },
    quiet: { type: 'boolean', help: 'no table, no notes', default: 'off' },
  } as const;
}

export const isStdoutPath = (path: string) => path === '-' || path === '/dev/stdout';

const errnoOf = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;
const why = (e: unknown) => errnoOf(e) ?? (e instanceof Error ? e.message : String(e));

function kindOf(s: Stats): string {
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isDirectory()) return 'a folder';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Temporary files in flight, removed if the process exits before they were renamed. */
const pending = new Set<string>();
process.on('exit', () => {
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
  }
});

/** Writes to standard output and waits until it is accepted; a closed pipe or full disk is an OutputError. */
export function writeStdout(data: string | Uint8Array): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    try {
      process.stdout.write(data, (e) =>
        e ? reject(new OutputError(`standard output: could not write (${why(e)})`)) : resolveWrite(),
      );
    } catch (e) {
      reject(new OutputError(`standard output: could not write (${why(e)})`));
    }
  });
}

export interface Output {
  /** The flag as typed (`--json`), for messages. */
  readonly flag: string;
  /** The path as typed. */
  readonly path: string;
  readonly stdout: boolean;
  /** Writes the whole output (temporary file + rename, or standard output). */
  write(data: string | Uint8Array): Promise<void>;
}

interface Planned {
  flag: string;
  path: string;
  abs: string;
  /** The target's identity when it existed at planning time (a regular file, --force given). */
  existed?: { dev: number; ino: number; mode: number };
}

/**
 * Checks every output of a command against the rules above, before the work starts. `outputs` maps a
 * flag (`--json`) to the path given (undefined: not given); `inputs` are the files and folders the
 * command will read. Returns the outputs by flag; throws OutputError naming the flag and path.
 */
export async function planOutputs<K extends string>(
  outputs: Record<K, string | undefined>,
  o: { force: boolean; inputs: (string | undefined)[] },
): Promise<Partial<Record<K, Output>>> {
  const result: Partial<Record<K, Output>> = {};
  const seen: { flag: string; abs: string; id?: string }[] = [];
  const inputs = await inputIdentities(o.inputs.filter((p): p is string => !!p));
  let toStdout: string | undefined;
  for (const [flag, path] of Object.entries(outputs) as [K, string | undefined][]) {
    if (path === undefined) continue;
    if (path === '') throw new OutputError(`${flag}: expected a file path or - for standard output, got ''`);
    if (isStdoutPath(path)) {
      if (toStdout)
        throw new OutputError(`${flag} ${path}: ${toStdout} already writes to standard output; give a file path`);
      toStdout = flag;
      result[flag] = { flag, path, stdout: true, write: writeStdout };
      continue;
    }
    const planned = await checkTarget(flag, path, o.force, inputs);
    const id = planned.existed ? `${planned.existed.dev}:${planned.existed.ino}` : undefined;
    const dup = seen.find((s) => s.abs === planned.abs || (id && s.id === id));
    if (dup)
      throw new OutputError(`${flag} ${path}: ${dup.flag} writes to the same file; give each output its own path`);
    seen.push({ flag, abs: planned.abs, id });
    result[flag] = { flag, path, stdout: false, write: (data) => writeFileSafely(planned, data, o.force) };
  }
  return result;
}

interface InputId {
  path: string;
  dev: number;
  ino: number;
  dir: boolean;
  real?: string;
}

async function inputIdentities(paths: string[]): Promise<InputId[]> {
  const ids: InputId[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined); // an unreadable input is reported by its reader
    if (!s) continue;
    const dir = s.isDirectory();
    ids.push({
      path: p,
      dev: s.dev,
      ino: s.ino,
      dir,
      real: dir ? await realpath(p).catch(() => undefined) : undefined,
    });
  }
  return ids;
}

async function checkTarget(flag: string, path: string, force: boolean, inputs: InputId[]): Promise<Planned> {
  const abs = resolve(path);
  const at = `${flag} ${path}`;
  let s: Stats | undefined;
  try {
    s = await lstat(abs);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOTDIR') throw new OutputError(`${at}: a part of the path is a file, not a folder`);
    if (code !== 'ENOENT') throw new OutputError(`${at}: cannot check the path (${why(e)})`);
  }
  if (s && !s.isFile()) {
    const hint = s.isDirectory()
      ? `give a file path, e.g. ${join(path, 'out.json')}`
      : s.isSymbolicLink()
        ? `it is not replaced; give the file it points to (${await realpath(abs).catch(() => 'missing')}) or another path`
        : 'use - for standard output';
    throw new OutputError(`${at}: is ${kindOf(s)}; outputs are written only to new paths or regular files (${hint})`);
  }
  const dir = dirname(abs);
  let d: Stats;
  try {
    d = await stat(dir);
  } catch (e) {
    throw new OutputError(
      errnoOf(e) === 'ENOENT'
        ? `${at}: the folder ${dir} does not exist; create it first`
        : `${at}: cannot check the folder ${dir} (${why(e)})`,
    );
  }
  if (!d.isDirectory()) throw new OutputError(`${at}: ${dir} is not a folder`);
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new OutputError(`${at}: the folder ${dir} is not writable (${why(e)})`);
  }
  if (!s) return { flag, path, abs };
  const clash = inputs.find((i) => !i.dir && i.dev === s.dev && i.ino === s.ino);
  if (clash) throw new OutputError(`${flag}: ${path} is an input file (${clash.path}); choose another output path`);
  const realDir = await realpath(dir).catch(() => dir);
  const inFolder = inputs.find((i) => i.dir && i.real === realDir);
  if (inFolder)
    throw new OutputError(
      `${flag}: ${path} is in the folder ${inFolder.path}, which is read as input; choose a path outside it or a new file name`,
    );
  if (!force) throw new OutputError(`${at}: file exists; pass --force to overwrite it`);
  try {
    await access(abs, constants.W_OK);
  } catch (e) {
    throw new OutputError(`${at}: the file is read-only (${why(e)}); not replaced`);
  }
  return { flag, path, abs, existed: { dev: s.dev, ino: s.ino, mode: s.mode } };
}

/** The write itself: temporary file in the target's folder, then link (new path) or rename (--force over a regular file). */
async function writeFileSafely(p: Planned, data: string | Uint8Array, force: boolean): Promise<void> {
  const at = `${p.flag} ${p.path}`;
  const tmp = join(dirname(p.abs), `.${basename(p.abs)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fail = async (what: string, e: unknown): Promise<never> => {
    await unlink(tmp).catch(() => undefined);
    pending.delete(tmp);
    if (e instanceof OutputError) throw e;
    throw new OutputError(
      `${at}: ${what} (${why(e)}); ${p.existed ? 'the file was not changed' : 'nothing was written'}`,
    );
  };
  pending.add(tmp);
  try {
    const h = await open(tmp, 'wx', 0o666);
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    if (p.existed) await chmod(tmp, p.existed.mode & 0o7777);
  } catch (e) {
    return fail('could not write', e);
  }
  // Whatever is at the path now must still be what was checked before the work.
  let now: Stats | undefined;
  try {
    now = await lstat(p.abs);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') return fail('cannot check the path', e);
  }
  try {
    if (now && !now.isFile())
      throw new OutputError(`${at}: became ${kindOf(now)} while the command ran; not replaced, nothing was written`);
    if (now && !(force && p.existed))
      throw new OutputError(`${at}: a file appeared there while the command ran; pass --force to overwrite it`);
    if (!now) {
      try {
        await link(tmp, p.abs); // fails with EEXIST if anything appeared: never replaces
        await unlink(tmp);
      } catch (e) {
        if (errnoOf(e) === 'EEXIST')
          throw new OutputError(`${at}: something appeared there while the command ran; not replaced`);
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'].includes(errnoOf(e) ?? '')) throw e;
        await rename(tmp, p.abs); // a filesystem without hard links
      }
    } else {
      await rename(tmp, p.abs);
    }
  } catch (e) {
    return fail('could not write', e);
  }
  pending.delete(tmp);
}
