import t from 'tap';
import { admissionGate } from '../../src/platform/http/admission.js';
import { AppError } from '../../src/platform/errors/app-error.js';

// The gate in front of large batches (admission.ts): a few run, a few wait their turn, the rest are
// refused at once with 503 and Retry-After; a finished run hands its place to the longest waiter.

const opened = () => {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
};

t.test('two run, one waits for a turn, the fourth is refused with 503 and Retry-After', async (t) => {
  const gate = admissionGate({ what: 'batches', concurrency: 2, queue: 1, maxWaitMs: 5_000, retryAfterSeconds: 7 });
  const first = opened();
  const second = opened();
  const order: string[] = [];
  const a = gate.run(async () => { await first.done; order.push('a'); return 'a'; });
  const b = gate.run(async () => { await second.done; order.push('b'); return 'b'; });
  const c = gate.run(async () => { order.push('c'); return 'c'; });
  await new Promise((r) => setImmediate(r));
  t.equal(gate.running, 2);
  t.equal(gate.waiting, 1);
  const refused = await gate.run(async () => 'd').then(() => undefined, (e: unknown) => e);
  t.ok(refused instanceof AppError, 'refused with an AppError');
  t.equal((refused as AppError).code, 'service_unavailable');
  t.same((refused as AppError).headers, { 'retry-after': '7' });
  t.same(order, [], 'the waiting one did not start');
  first.open();
  t.equal(await a, 'a');
  t.equal(await c, 'c', 'the waiter ran once a place was free');
  second.open();
  t.equal(await b, 'b');
  t.same(order, ['a', 'c', 'b']);
  t.equal(gate.running, 0, 'every place is free again');
  t.equal(gate.waiting, 0);
});

t.test('a waiter that gets no turn within maxWaitMs is refused, and its place in the queue freed', async (t) => {
  const gate = admissionGate({ what: 'batches', concurrency: 1, queue: 1, maxWaitMs: 20, retryAfterSeconds: 5 });
  const held = opened();
  const running = gate.run(() => held.done);
  const late = await gate.run(async () => 'late').then(() => undefined, (e: unknown) => e);
  t.equal((late as AppError).code, 'service_unavailable');
  t.equal(gate.waiting, 0);
  held.open();
  await running;
  t.equal(await gate.run(async () => 'next'), 'next', 'the gate admits again');
  t.equal(gate.running, 0);
});

t.test('a failing run frees its place too', async (t) => {
  const gate = admissionGate({ what: 'batches', concurrency: 1, queue: 0, maxWaitMs: 10, retryAfterSeconds: 5 });
  await t.rejects(gate.run(async () => { throw new Error('boom'); }), /boom/);
  t.equal(gate.running, 0);
  t.equal(await gate.run(async () => 1), 1);
});

t.test('assertRoom refuses exactly when run() would refuse at once', async (t) => {
  const gate = admissionGate({ what: 'batches', concurrency: 1, queue: 1, maxWaitMs: 5_000, retryAfterSeconds: 5 });
  const held = opened();
  const running = gate.run(() => held.done);
  t.doesNotThrow(() => gate.assertRoom(), 'a place in the queue is left');
  const waiting = gate.run(async () => 'waited');
  t.throws(() => gate.assertRoom(), { code: 'service_unavailable' });
  held.open();
  await running;
  t.equal(await waiting, 'waited');
  t.doesNotThrow(() => gate.assertRoom());
});
