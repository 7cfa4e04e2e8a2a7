// The state machine of SPEC §3–§5 driven tick by tick: a real SQLite store, the real opener, and
// hand-written fakes for the network side (broadcaster, tracker), chain tip and clock.
import test from 'ava';
import nacl from 'tweetnacl';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Transaction } from 'bitcoinjs-lib';
import { Store } from '../src/store/store.js';
import { Scheduler } from '../src/engine/scheduler.js';
import { InlineOpener } from '../src/engine/opener.js';
import type { Broadcaster, BroadcastOutcome } from '../src/engine/broadcaster.js';
import type { Rung } from '../src/domain/bundle.js';
import type { Tracker } from '../src/engine/tracker.js';
import type { TxStatusAnswer } from '../src/chain/esplora.js';
import { seal } from '../src/crypto/sealed-box.js';
import { pad } from '../src/crypto/padding.js';
import { State } from '../src/domain/record.js';
import type { Tip } from '../src/domain/locktime.js';
import { silentLogger } from '../src/util/log.js';

class FakeBroadcaster implements Broadcaster {
  readonly sent: Array<{ rawHex: string; txid: string }> = [];
  next: BroadcastOutcome[] = [];
  async broadcast(rung: Rung): Promise<BroadcastOutcome> {
    for (const { hex, txid } of rung.txs) this.sent.push({ rawHex: hex, txid });
    return this.next.shift() ?? { kind: 'accepted', verified: true };
  }
}

class FakeTracker implements Tracker {
  answers = new Map<string, TxStatusAnswer>();
  async status(txid: string): Promise<TxStatusAnswer> {
    return this.answers.get(txid) ?? { kind: 'mempool' };
  }
}

const key = nacl.box.keyPair();
const keyId = 'aa'.repeat(8);

function makeTx(locktime: number): { raw: Buffer; txid: string } {
  const tx = new Transaction();
  tx.locktime = locktime;
  tx.addInput(nacl.randomBytes(32) as Buffer, 0, 0xfffffffe);
  tx.addOutput(Buffer.from('0014' + '22'.repeat(20), 'hex'), 1000n);
  return { raw: Buffer.from(tx.toBuffer()), txid: tx.getId() };
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-sched-'));
  const store = await Store.open(dir, { maxPending: 1000 });
  const broadcaster = new FakeBroadcaster();
  const tracker = new FakeTracker();
  const w = {
    dir,
    store,
    broadcaster,
    tracker,
    tip: { height: 100, hash: '01'.repeat(32), medianTime: 1_700_000_000 } as Tip | null,
    nowMs: 1_700_000_000_000,
    scheduler: null as unknown as Scheduler,
    async submit(locktime: number, opts: { window?: number; declared?: number; plaintext?: Uint8Array } = {}) {
      const tx = makeTx(locktime);
      const sealed = Buffer.from(seal(key.publicKey, opts.plaintext ?? pad(tx.raw)));
      const id = createHash('sha256').update(sealed).digest().subarray(0, 16);
      const outcome = await store.submit({ id, keyId: Buffer.from(keyId, 'hex'), locktime: opts.declared ?? locktime, window: opts.window ?? 0, sealed, tokenHash: Buffer.alloc(32) });
      if (outcome.kind === 'full') throw new Error('full');
      return { id: outcome.record.id, ...tx };
    },
    async settle() {
      await w.scheduler.tick();
      await w.scheduler.idle();
      await w.scheduler.tick();
      await w.scheduler.idle();
    },
    mine(n = 1) {
      w.tip = { height: w.tip!.height + n, hash: nacl.randomBytes(32).toString(), medianTime: w.tip!.medianTime + 600 * n };
    },
    state: async (id: string) => (await store.get(id))!,
  };
  w.scheduler = new Scheduler({
    store,
    opener: new InlineOpener([{ keyId, ...key }]),
    broadcaster,
    tracker,
    clock: { now: () => w.nowMs },
    tip: () => w.tip,
    log: silentLogger,
    confirmations: 3,
    checkIntervalSeconds: 30,
    retentionSeconds: 86_400,
    retryMinSeconds: 10,
    retryMaxSeconds: 600,
    randomInt: (max) => max - 1,
  });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return w;
}

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
