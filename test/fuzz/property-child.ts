// The fast-check properties, run in a child process (see child.ts) so a hang fails its reader instead of
// stalling the suite. Prints one JSON line when a reader's input starts and one with its result.
// Usage: property-child.ts JSON({ readers: { name, skipKinds }[], numRuns, seed, timeBoundMs })
import fc from 'fast-check';
import { applyMutation, mutation, type Mutation } from './mutate';
import { outcome, READERS } from './readers';

export interface PropertyJob {
  readers: { name: string; skipKinds: Mutation['kind'][] }[];
  numRuns: number;
  seed: number;
  timeBoundMs: number;
}

export interface PropertyLine {
  reader: string;
  input: string;
  started?: true;
  failed?: boolean;
  counterexample?: Mutation;
  error?: string;
  slowMs?: number;
  numRuns?: number;
}

const print = (line: PropertyLine) => process.stdout.write(JSON.stringify(line) + '\n');

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as PropertyJob;
  for (const { name, skipKinds } of job.readers) {
    const reader = READERS.find((r) => r.name === name);
    if (!reader) throw new Error(`no reader ${name}`);
    for (const [fileName, good] of await reader.inputs()) {
      print({ reader: name, input: fileName, started: true });
      const result = await fc.check(
        fc.asyncProperty(
          mutation(good.length).filter((m) => !skipKinds.includes(m.kind)),
          async (m) => {
            const o = await outcome(reader, applyMutation(good, m), fileName);
            return o.ms <= job.timeBoundMs && (o.ok || o.clear);
          },
        ),
        { seed: job.seed, numRuns: job.numRuns },
      );
      if (!result.failed) {
        print({ reader: name, input: fileName, failed: false, numRuns: result.numRuns });
        continue;
      }
      const m = result.counterexample?.[0];
      const o = m ? await outcome(reader, applyMutation(good, m), fileName) : undefined;
      print({
        reader: name,
        input: fileName,
        failed: true,
        counterexample: m,
        error: o && !o.ok ? o.error : String(result.errorInstance ?? 'a correct result, but slow'),
        slowMs: o?.ms,
      });
    }
  }
}
void main();
