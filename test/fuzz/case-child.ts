// One damaged input through one reader, in a child process (see child.ts): prints the Outcome as JSON.
// Usage: case-child.ts READER FILE_NAME MUTATION_JSON
import { applyMutation, type Mutation } from './mutate';
import { outcome, READERS } from './readers';

async function main(): Promise<void> {
  const [readerName, fileName, mutationJson] = process.argv.slice(2);
  const reader = READERS.find((r) => r.name === readerName);
  if (!reader) throw new Error(`no reader ${readerName}`);
  const good = (await reader.inputs()).find(([n]) => n === fileName)?.[1];
  if (!good) throw new Error(`reader ${readerName} has no input ${fileName}`);
  const o = await outcome(reader, applyMutation(good, JSON.parse(mutationJson) as Mutation), fileName);
  process.stdout.write(JSON.stringify(o) + '\n');
}
void main();
