// The state machine of SPEC §3–§5 driven tick by tick: a real SQLite store, the real opener, and
// hand-written fakes for the network side (broadcaster, tracker), chain tip and clock.
import test from 'ava';
import nacl from 'tweetnacl';
import { State } from '../src/domain/record.js';
import { schedulerWorld } from './support/scheduler-world.js';
import { InlineOpener } from '../src/engine/opener.js';

const setup = schedulerWorld;

test('a height-locked transaction is not sent at tip L-1, and is sent at tip L', async (t) => {
  const w = await setup(t);
  const { id, raw, txid } = await w.submit(102);
  w.mine(1);
  await w.settle();
  t.is(w.broadcaster.sent.length, 0);
  t.is((await w.state(id)).state, State.Pending);
  w.mine(1);
  await w.settle();
  t.deepEqual(w.broadcaster.sent, [{ rawHex: raw.toString('hex'), txid }]);
  const record = await w.state(id);
  t.is(record.state, State.Broadcast);
  t.is(record.txid, txid);
  t.not(record.sealed, null, 'kept until confirmed, for rebroadcasts');
});

test('a time-locked transaction waits until median time past exceeds it', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(1_700_000_600);
  w.mine(1); // MTP = locktime exactly: not yet
  await w.settle();
  t.is((await w.state(id)).state, State.Pending);
  w.mine(1);
  await w.settle();
  t.is((await w.state(id)).state, State.Broadcast);
});

test('the random window delays the broadcast after maturity, up to window seconds', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(50, { window: 3600 });
  await w.settle();
  const windowed = await w.state(id);
  t.is(windowed.state, State.Windowed);
  t.is(windowed.wake, 1_700_000_000 + 3600); // the fake random picks the last second of the window
  t.is(w.broadcaster.sent.length, 0);
  w.nowMs += 3599_000;
  await w.settle();
  t.is(w.broadcaster.sent.length, 0);
  w.nowMs += 1000;
  await w.settle();
  t.is(w.broadcaster.sent.length, 1);
});

test('invalid records are never sent and their blob is wiped', async (t) => {
  const w = await setup(t);
  const mismatch = await w.submit(90, { declared: 91 });
  const garbage = await w.submit(0, { plaintext: nacl.randomBytes(512) });
  await w.settle();
  t.is(w.broadcaster.sent.length, 0);
  for (const [r, code] of [[mismatch, 'locktime_mismatch'], [garbage, 'malformed_transaction']] as const) {
    const record = await w.state(r.id);
    t.is(record.state, State.Invalid);
    t.is(record.errorCode, code);
    t.is(record.sealed, null);
  }
});

test('non-final answers wait for a later tip before trying again', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(100);
  w.broadcaster.next = [{ kind: 'non_final', reason: 'non-BIP68-final' }];
  await w.settle();
  t.is((await w.state(id)).state, State.Broadcasting);
  t.is((await w.state(id)).holdHeight, 100);
  w.nowMs += 60_000;
  await w.settle();
  t.is(w.broadcaster.sent.length, 1, 'same tip: no new attempt');
  w.mine(1);
  w.nowMs += 60_000;
  await w.settle();
  t.is(w.broadcaster.sent.length, 2);
  t.is((await w.state(id)).state, State.Broadcast);
});

test('a non-final hold is the tip the send was judged at, not the one when the answer came back', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(100);
  let answer!: () => void;
  w.broadcaster.gate = new Promise((resolve) => (answer = resolve));
  w.broadcaster.next = [{ kind: 'non_final', reason: 'non-final' }];
  await w.scheduler.tick();
  t.is(w.broadcaster.calls.length, 1, 'out at tip 100');
  w.mine(1);
  w.broadcaster.gate = null;
  answer();
  await w.scheduler.idle();
  t.like(await w.state(id), { state: State.Broadcasting, holdHeight: 100 });
  w.nowMs += 60_000;
  await w.settle();
  t.is(w.broadcaster.calls.length, 2, 'tip 101 is past the tip it was judged at: tried again at once');
  t.is((await w.state(id)).state, State.Broadcast);
});

test('a non-final hold at a height the chain never reached (one explorer ran ahead) ends when the tip comes back', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(100);
  const real = w.tip!;
  w.tip = { ...real, height: 150, hash: 'ff'.repeat(32) };
  w.broadcaster.next = [{ kind: 'non_final', reason: 'non-final' }];
  await w.settle();
  t.like(await w.state(id), { state: State.Broadcasting, holdHeight: 150 });
  w.tip = { ...real, height: real.height + 1, hash: '02'.repeat(32) };
  w.nowMs += 60_000;
  await w.settle();
  t.is(w.broadcaster.calls.length, 2, 'not held until the real chain passes 150');
  t.is((await w.state(id)).state, State.Broadcast);
});

test('unreachable explorers are retried with growing backoff, without giving up', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(1);
  w.broadcaster.next = Array.from({ length: 6 }, () => ({ kind: 'unreachable', reason: 'ECONNREFUSED' }) as const);
  await w.settle();
  let previousDelay = 0;
  for (let attempt = 1; attempt <= 6; attempt++) {
    const r = await w.state(id);
    t.is(r.state, State.Broadcasting);
    t.is(r.attempts, attempt);
    const delay = r.wake - Math.floor(w.nowMs / 1000);
    t.true(delay >= previousDelay && delay <= 600, `delay ${delay} after attempt ${attempt}`);
    previousDelay = delay;
    w.nowMs += delay * 1000;
    await w.settle();
  }
  t.is(w.broadcaster.sent.length, 7);
  t.is((await w.state(id)).state, State.Broadcast);
});

test('a permanent refusal ends in rejected with the blob wiped', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(1);
  w.broadcaster.next = [{ kind: 'rejected', code: 'inputs_missing_or_spent', reason: 'spent' }];
  await w.settle();
  const r = await w.state(id);
  t.is(r.state, State.Rejected);
  t.is(r.errorCode, 'inputs_missing_or_spent');
  t.is(r.sealed, null);
});

test('tracking: confirmations counted, confirmed at depth with the blob wiped', async (t) => {
  const w = await setup(t);
  const { id, txid } = await w.submit(1);
  await w.settle();
  w.tracker.answers.set(txid, { kind: 'confirmed', blockHeight: 101, blockHash: '02'.repeat(32) });
  w.mine(2);
  w.nowMs += 30_000;
  await w.settle();
  t.is((await w.state(id)).state, State.Broadcast);
  t.is((await w.state(id)).confirmations, 2);
  w.mine(1);
  w.nowMs += 30_000;
  await w.settle();
  const r = await w.state(id);
  t.is(r.state, State.Confirmed);
  t.is(r.confirmations, 3);
  t.is(r.sealed, null);
});

test('a transaction that vanishes (dropped or reorganised out) is broadcast again', async (t) => {
  const w = await setup(t);
  const { id, txid } = await w.submit(1);
  await w.settle();
  t.is(w.broadcaster.sent.length, 1);
  w.tracker.answers.set(txid, { kind: 'unknown' });
  w.nowMs += 30_000;
  await w.settle();
  t.is(w.broadcaster.sent.length, 2);
  t.is(w.broadcaster.sent[1]!.txid, txid);
  t.is((await w.state(id)).state, State.Broadcast);
});

test('broadcastAt is the first acceptance: sending again after a drop does not move it', async (t) => {
  const w = await setup(t);
  const { id, txid } = await w.submit(1);
  await w.settle();
  const first = (await w.state(id)).broadcastAt;
  t.is(first, Math.floor(w.nowMs / 1000));
  w.tracker.answers.set(txid, { kind: 'unknown' });
  w.nowMs += 30_000;
  await w.settle();
  t.is(w.broadcaster.sent.length, 2, 'sent again and accepted again');
  t.like(await w.state(id), { state: State.Broadcast, broadcastAt: first });
});

test('a record cancelled before maturity is never opened or sent', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(200);
  await w.store.transition([{ id, from: [State.Pending], to: State.Cancelled, wake: Math.floor(w.nowMs / 1000) + 86_400, wipe: true }]);
  w.mine(150);
  await w.settle();
  t.is(w.broadcaster.sent.length, 0);
  t.is((await w.state(id)).state, State.Cancelled);
});

test('finished records are purged once their retention has passed', async (t) => {
  const w = await setup(t);
  const { id } = await w.submit(1);
  w.broadcaster.next = [{ kind: 'rejected', code: 'invalid_transaction', reason: 'bad' }];
  await w.settle();
  t.is((await w.state(id)).state, State.Rejected);
  w.nowMs += 2 * 86_400_000 + 3_600_000; // retention (one day, rounded up to a day boundary) and the hourly purge
  await w.settle();
  t.is(await w.store.get(id), undefined);
});

test('after a restart, a record left in broadcasting is reopened from its blob and sent', async (t) => {
  const w = await setup(t);
  const { id, txid } = await w.submit(1);
  await w.store.transition([{ id, from: [State.Pending], to: State.Broadcasting, wake: 0, txid }]);
  await w.settle(); // this scheduler has no opened copy in memory, like a fresh process
  t.is(w.broadcaster.sent.length, 1);
  t.is(w.broadcaster.sent[0]!.txid, txid);
  t.is((await w.state(id)).state, State.Broadcast);
});

test('two hundred records due at one height all go out, each exactly once', async (t) => {
  const w = await setup(t);
  const ids = [];
  for (let i = 0; i < 200; i++) ids.push((await w.submit(101)).id);
  w.mine(1);
  await w.settle();
  t.is(w.broadcaster.sent.length, 200);
  t.is(new Set(w.broadcaster.sent.map((s) => s.txid)).size, 200);
  for (const id of ids) t.is((await w.state(id)).state, State.Broadcast);
});

/** The real inline opener, counting the calls that ask it to get ready for a burst. */
class CountingOpener extends InlineOpener {
  prepared = 0;
  override prepare(): void {
    this.prepared++;
  }
}

test('the opener is asked to get ready only after a tick that saw records waiting to mature, never by an empty store', async (t) => {
  const opener = new CountingOpener([]);
  const w = await setup(t, { opener });
  await w.settle();
  t.is(opener.prepared, 0, 'nothing stored: nothing to get ready for');
  await w.submit(500);
  t.is(opener.prepared, 0, 'not on submission: the scheduler asks');
  await w.scheduler.tick();
  t.true(opener.prepared >= 1);
});
