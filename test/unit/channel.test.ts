import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Channel, ChannelError, type Envelope } from '../../src/protocol/channel';

type A = { type: 'ping'; n: number } | { type: 'note'; text: string };
type B = { type: 'pong'; n: number };

/** Two ends joined back to back, delivering asynchronously like postMessage. */
function pair(onA: (m: B) => void, onB: (m: A, reply?: (m: B) => void) => unknown) {
  const errors: unknown[] = [];
  // Each end reaches the other only inside a timer callback, after both exist.
  const a: Channel<A, B> = new Channel<A, B>(
    (e: Envelope<A>) => void setTimeout(() => b.receive(structuredClone(e))),
    (m) => onA(m),
  );
  const b: Channel<B, A> = new Channel<B, A>(
    (e: Envelope<B>) => void setTimeout(() => a.receive(structuredClone(e))),
    onB,
    (e) => errors.push(e),
  );
  return { a, b, errors };
}

test('a request resolves with the reply to its own id, concurrent requests do not cross', async () => {
  const { a } = pair(
    () => {},
    (m, reply) => {
      if (m.type === 'ping') setTimeout(() => reply!({ type: 'pong', n: m.n * 10 }), 10 - m.n);
    },
  );
  const got = await Promise.all([1, 2, 3].map((n) => a.request({ type: 'ping', n })));
  assert.deepEqual(
    got.map((r) => r.n),
    [10, 20, 30],
  );
});

test('plain posts reach the handler without a reply function', async () => {
  const seen: (string | boolean)[] = [];
  const { a } = pair(
    () => {},
    (m, reply) => {
      if (m.type === 'note') seen.push(m.text, reply === undefined);
    },
  );
  a.post({ type: 'note', text: 'hi' });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, ['hi', true]);
});

test('a handler that throws rejects the request with its message; a failing post goes to onError', async () => {
  const { a, errors } = pair(
    () => {},
    async (m) => {
      throw new Error(m.type === 'ping' ? `bad ping ${m.n}` : 'bad note');
    },
  );
  await assert.rejects(
    a.request({ type: 'ping', n: 7 }),
    (e: Error) => e instanceof ChannelError && e.message === 'bad ping 7',
  );
  a.post({ type: 'note', text: 'x' });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal((errors[0] as Error).message, 'bad note');
});

test('dispose rejects pending requests and later ones; timeouts reject', async () => {
  const { a } = pair(
    () => {},
    () => {},
  );
  const pending = a.request({ type: 'ping', n: 1 });
  const timed = a.request({ type: 'ping', n: 2 }, 20);
  await assert.rejects(timed, /no reply within 0.02 s/);
  a.dispose('the panel was closed');
  await assert.rejects(pending, /the panel was closed/);
  await assert.rejects(a.request({ type: 'ping', n: 3 }), /the panel was closed/);
});
