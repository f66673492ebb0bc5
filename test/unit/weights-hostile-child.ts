// Runs one hostile weights case (weights-hostile.ts) and prints one JSON line: what happened, how
// long it took, the peak RSS. Run under a heap limit by weights-hostile.test.ts:
//   node --max-old-space-size=256 --import tsx test/unit/weights-hostile-child.ts <case> [--read]
import { InputError } from '../../src/core/errors';
import { bytesSource, openWeights } from '../../src/core/weights';
import {
  appendsPickle,
  bigDictPickle,
  lyingNpz,
  manyArraysNpz,
  sharedDictPickle,
  torchZipOf,
  zerosNpz,
} from './weights-hostile';

const CASES: Record<string, () => [string, Uint8Array]> = {
  'shared-dict': () => ['shared.pt', torchZipOf(sharedDictPickle(45, false))],
  'shared-dict-tensor': () => [
    'shared_tensor.pt',
    torchZipOf(sharedDictPickle(45, true), { '0': new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) }),
  ],
  appends: () => ['appends.pt', torchZipOf(appendsPickle(300_000))],
  'big-dict': () => ['big_dict.pt', torchZipOf(bigDictPickle(400_000))],
  'many-arrays': () => ['many.npz', manyArraysNpz(3000)],
  'zeros-16mb': () => ['zeros.npz', zerosNpz(8, 1_250_000)],
  'lying-up': () => ['lying_up.npz', lyingNpz('up')],
  'lying-down': () => ['lying_down.npz', lyingNpz('down')],
};

async function main(): Promise<void> {
  const [name, flag] = process.argv.slice(2);
  const make = CASES[name];
  if (!make) throw new Error(`unknown case ${name}`);
  const [fileName, bytes] = make();
  const t0 = performance.now();
  const out: Record<string, unknown> = { case: name, bytes: bytes.length };
  try {
    const f = await openWeights(bytesSource(bytes), fileName);
    out.tensors = f.tensors.length;
    out.metadata = f.metadata.length;
    if (flag === '--read' && f.tensors.length) out.readLength = (await f.read(f.tensors[0].name)).length;
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.inputError = e instanceof InputError;
    out.error = e instanceof Error ? e.message.slice(0, 300) : String(e);
  }
  out.ms = Math.round(performance.now() - t0);
  out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
