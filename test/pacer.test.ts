// The pacer (issue 14): per explorer lane, at most the learned limit in flight; sends before checks
// before tracking; a lane that hangs holds back no other; each attempt's deadline follows the
// lane's recent answers; a limit that moves is logged by explorer, never by transaction.
import test from 'ava';
import { Pacer, type Priority } from '../src/net/pacer.js';
import type { Logger } from '../src/util/log.js';

/** Attempts that answer when the test says so, recording their lane, priority order and deadline. */
function harness(options: { initial?: number; min?: number; max?: number } = {}) {
  let clock = 0;
  const logged: Array<Record<string, unknown>> = [];
  const log: Logger = { log: (level, event, fields) => logged.push({ level, event, ...fields }) };
  const pacer = new Pacer({ log, now: () => clock, ...options });
  const started: Array<{ name: string; deadline: number; answer: (ok?: boolean) => void }> = [];
  const run = (lane: string, priority: Priority, name = `${lane}/${priority}`, timeoutMs = 30_000) =>
    pacer.run(
      { lane, priority, timeoutMs },
      (deadline) => new Promise<boolean>((resolve) => started.push({ name, deadline, answer: (ok = true) => resolve(ok) })),
      (ok) => ok,
    );
  const advance = (ms: number) => (clock += ms);
  const settle = () => new Promise((r) => setImmediate(r));
  return { pacer, run, started, logged, advance, settle };
}

test('a lane has at most its limit in flight; the others wait for a slot', async (t) => {
  const h = harness({ initial: 2, min: 1, max: 2 });
  const done = Array.from({ length: 5 }, (_, i) => h.run('a.onion', 'send', `send ${i}`));
  t.deepEqual(h.started.map((s) => s.name), ['send 0', 'send 1']);
  h.started[0]!.answer();
  await h.settle();
  t.deepEqual(h.started.map((s) => s.name), ['send 0', 'send 1', 'send 2']);
  for (let i = 1; i < 5; i++) {
    h.started[i]!.answer();
    await h.settle();
  }
  t.deepEqual(await Promise.all(done), [true, true, true, true, true]);
});

test('when a slot frees, a waiting send goes before a check, and a check before tracking', async (t) => {
  const h = harness({ initial: 1, min: 1, max: 1 });
  void h.run('a.onion', 'send', 'first');
  for (const p of ['track', 'check', 'send'] as const) void h.run('a.onion', p);
  for (let i = 0; i < 4; i++) {
    h.started[i]!.answer();
    await h.settle();
  }
  t.deepEqual(h.started.map((s) => s.name), ['first', 'a.onion/send', 'a.onion/check', 'a.onion/track']);
});

test('with nothing sent yet (a restart), a check or tracking request starts at once', async (t) => {
  const h = harness();
  const tracked = h.run('a.onion', 'track', 'track');
  const checked = h.run('b.onion', 'check', 'check');
  t.deepEqual(h.started.map((s) => s.name), ['track', 'check']);
  for (const s of h.started) s.answer();
  t.deepEqual(await Promise.all([tracked, checked]), [true, true]);
});

test('an explorer whose answers hang holds back no other explorer', async (t) => {
  const h = harness({ initial: 2, min: 1, max: 2 });
  for (let i = 0; i < 4; i++) void h.run('slow.onion', 'send', `slow ${i}`);
  const fast = Array.from({ length: 6 }, (_, i) => h.run('fast.onion', 'send', `fast ${i}`));
  for (let i = 0; i < 6; i++) {
    h.started.find((s) => s.name === `fast ${i}`)!.answer();
    await h.settle();
  }
  t.deepEqual(await Promise.all(fast), [true, true, true, true, true, true]);
  t.deepEqual(h.started.filter((s) => s.name.startsWith('slow')).map((s) => s.name), ['slow 0', 'slow 1'], 'the slow lane still waits on its own two');
});

test("an attempt's deadline: the configured timeout until answers are known, then three times their 90th percentile, at least 10 s", async (t) => {
  const h = harness({ initial: 1, min: 1, max: 1 });
  const answerAfter = async (ms: number, timeoutMs = 30_000) => {
    void h.run('a.onion', 'send', 'x', timeoutMs);
    const attempt = h.started.at(-1)!;
    h.advance(ms);
    attempt.answer();
    await h.settle();
    return attempt.deadline;
  };
  t.is(await answerAfter(5_000), 30_000, 'nothing known yet');
  for (let i = 0; i < 8; i++) await answerAfter(5_000);
  t.is(await answerAfter(5_000), 15_000);
  t.is(await answerAfter(5_000, 12_000), 12_000, 'never above the configured timeout');
  for (let i = 0; i < 16; i++) await answerAfter(100);
  t.is(await answerAfter(100), 10_000, 'never below 10 s');
});

test('a failed attempt counts as one that took its whole deadline, and a limit that moves is logged by explorer alone', async (t) => {
  const h = harness({ initial: 16, min: 2, max: 256 });
  const waiting = Array.from({ length: 200 }, () => h.run('a.onion', 'send'));
  for (let i = 0; i < 200; i++) {
    h.advance(i < 40 ? 500 : 4_000);
    h.started[i]!.answer(i < 40);
    await h.settle();
  }
  t.deepEqual(await Promise.all(waiting), [...Array(40).fill(true), ...Array(160).fill(false)]);
  const moves = h.logged.filter((l) => l.event === 'tor_concurrency');
  t.true(moves.some((m) => m.level === 'warn' && Number(m.limit) < Number(m.was)), JSON.stringify(moves));
  for (const m of moves) t.deepEqual(Object.keys(m).sort(), ['event', 'explorer', 'fastMs', 'level', 'limit', 'reason', 'recentMs', 'was']);
  t.is(moves[0]!.explorer, 'a.onion');
});
