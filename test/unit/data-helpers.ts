// Shared by the data-*.test.ts files: fixture bytes and a check that a bad input fails the user-facing way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

export function fixtureJson<T>(name: string, reviver?: (key: string, value: unknown) => unknown): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'), reviver) as T;
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** The call must throw InputError (not a TypeError or RangeError) whose message contains every needle. */
export async function rejectsWith(fn: () => unknown, ...needles: (string | RegExp)[]): Promise<string> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(
    error instanceof InputError,
    `expected an InputError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
  );
  for (const n of needles) {
    if (typeof n === 'string')
      assert.ok(error.message.includes(n), `message lacks ${JSON.stringify(n)}: ${error.message}`);
    else assert.match(error.message, n);
  }
  return error.message;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 0, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const ok =
      tol === 0
        ? Object.is(actual[i], expected[i]) || actual[i] === expected[i]
        : Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i]));
    assert.ok(ok, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}
