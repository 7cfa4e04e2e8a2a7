// SPEC §7 "Choosing and climbing" on the scheduler, tick by tick: a real SQLite store and opener,
// fakes for the network. Each ladder's rungs are versions of one spend at rising fee rates.
import test from 'ava';
import { State, viewOf } from '../src/domain/record.js';
import { schedulerWorld, type SchedulerWorld } from './support/scheduler-world.js';

const FEES = [220, 1_100, 5_500]; // about 2, 10 and 50 sat/vB on these transactions

const rateOf = (ladder: { rungs: ReadonlyArray<{ feeRate: number | null }> }, i: number) => ladder.rungs[i]!.feeRate!;
const sentTxids = (w: SchedulerWorld) => w.broadcaster.calls.map((c) => c.txids[0]);
/** Each rung sent, and the transaction tracking follows for it. */
const followed = (r: { sent: ReadonlyArray<{ rung: number; txid: string }> }) => r.sent.map(({ rung, txid }) => ({ rung, txid }));

test('the cheapest rung at or above the estimate is sent; cheaper ones never are', async (t) => {
  const w = await schedulerWorld(t);
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  w.estimate = rateOf(ladder, 1) - 0.5;
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[1]]);
  const r = await w.state(id);
  t.like(r, { state: State.Broadcast, rungs: 3, rung: 1, txid: txids[1], feeRate: rateOf(ladder, 1), sentHeight: 100 });
  t.deepEqual(r.txids, [txids[1]]);
  t.deepEqual(followed(r), [{ rung: 1, txid: txids[1] }]);
  t.like(viewOf(r), { status: 'broadcast', rungs: 3, rung: 1, txid: txids[1], txids: [txids[1]] });
});

test('an estimate exactly at a rung picks that rung; above every rung, the dearest; none known, the first', async (t) => {
  const cases: Array<[(ladder: Parameters<typeof rateOf>[0]) => number | null, number]> = [
    [(ladder) => rateOf(ladder, 2), 2],
    [(ladder) => rateOf(ladder, 2) + 100, 2],
    [() => null, 0],
  ];
  for (const [estimate, expected] of cases) {
    const w = await schedulerWorld(t);
    const { ladder, txids } = await w.submitLadder(100, FEES);
    w.estimate = estimate(ladder);
    await w.settle();
    t.deepEqual(sentTxids(w), [txids[expected]], `estimate ${w.estimate}`);
  }
});

test('before its first send a bundle shows how many rungs it holds, but no rung', async (t) => {
  const w = await schedulerWorld(t);
  const { id } = await w.submitLadder(100, FEES);
  w.broadcaster.gate = new Promise(() => undefined); // the send never comes back
  await w.scheduler.tick();
  const view = viewOf(await w.state(id));
  t.like(view, { status: 'broadcasting', rungs: 3 });
  t.false('rung' in view);
  t.false('txids' in view);
});

test('a rung refused for its fee is followed at once by the next, in order', async (t) => {
  const w = await schedulerWorld(t);
  const { id, txids } = await w.submitLadder(100, FEES);
  w.broadcaster.next = [{ kind: 'fee_too_low', reason: 'mempool min fee not met' }];
  await w.scheduler.tick();
  await w.scheduler.idle();
  t.deepEqual(sentTxids(w), [txids[0], txids[1]], 'no tick in between');
  t.like(await w.state(id), { state: State.Broadcast, rung: 1, txid: txids[1] });
  t.deepEqual(followed(await w.state(id)), [{ rung: 1, txid: txids[1] }], 'the refused rung is not followed');
});

test('the top rung refused for its fee waits for a later tip, then is sent again (not the ladder from the start)', async (t) => {
  const w = await schedulerWorld(t);
  const { id, txids } = await w.submitLadder(100, FEES);
  w.broadcaster.answer = () => ({ kind: 'fee_too_low', reason: 'min relay fee not met' });
  await w.settle();
  t.deepEqual(sentTxids(w), txids);
  t.like(await w.state(id), { state: State.Broadcasting, rung: 2, holdHeight: 100 });
  w.nowMs += 60_000;
  await w.settle();
  t.is(w.broadcaster.calls.length, 3, 'same tip: no new attempt');
  w.broadcaster.answer = null;
  w.mine(1);
  w.nowMs += 60_000;
  await w.settle();
  t.deepEqual(sentTxids(w), [...txids, txids[2]]);
  t.like(await w.state(id), { state: State.Broadcast, rung: 2, sentHeight: 101 });
});

test('a rung unconfirmed --fee-bump-blocks blocks after it went out is replaced by the next; both are followed; the one that confirms is the txid', async (t) => {
  const w = await schedulerWorld(t, { feeBumpBlocks: 3 });
  const { id, txids } = await w.submitLadder(100, FEES);
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[0]]);
  for (const blocks of [1, 1]) {
    w.mine(blocks);
    w.nowMs += 30_000;
    await w.settle();
  }
  t.deepEqual(sentTxids(w), [txids[0]], 'two blocks: not yet');
  w.mine(1);
  w.nowMs += 30_000;
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[0], txids[1]], 'three blocks: the next rung');
  t.like(await w.state(id), { state: State.Broadcast, rung: 1, sentHeight: 103 });
  t.deepEqual(followed(await w.state(id)), [{ rung: 0, txid: txids[0] }, { rung: 1, txid: txids[1] }]);

  // The replaced rung confirms after all (a miner had it): it becomes the record's txid.
  w.tracker.answers.set(txids[0]!, { kind: 'confirmed', blockHeight: 104, blockHash: '02'.repeat(32) });
  w.tracker.asked.length = 0;
  w.mine(3);
  w.nowMs += 30_000;
  await w.settle();
  t.deepEqual(w.tracker.asked.slice(0, 2), [txids[1], txids[0]], 'the current rung first, then the earlier one');
  const r = await w.state(id);
  t.like(r, { state: State.Confirmed, txid: txids[0], confirmations: 3, sealed: null });
  t.is(w.broadcaster.calls.length, 2, 'no third rung while one was confirming');
});

test('the top rung is never replaced: it just stays followed', async (t) => {
  const w = await schedulerWorld(t, { feeBumpBlocks: 1 });
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  w.estimate = rateOf(ladder, 2);
  await w.settle();
  w.mine(5);
  w.nowMs += 30_000;
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[2]]);
  t.like(await w.state(id), { state: State.Broadcast, rung: 2, confirmations: 0 });
});

test('never two rungs of one bundle in flight, however often the scheduler ticks', async (t) => {
  const w = await schedulerWorld(t);
  const { id, txids } = await w.submitLadder(100, FEES);
  let open!: () => void;
  w.broadcaster.gate = new Promise((resolve) => (open = resolve));
  w.broadcaster.answer = (sent) => (sent[0] === txids[2] ? { kind: 'accepted', verified: true } : { kind: 'fee_too_low', reason: 'insufficient fee' });
  await w.scheduler.tick();
  for (let i = 0; i < 5; i++) {
    w.nowMs += 60_000;
    w.mine(1);
    await w.scheduler.tick();
  }
  t.is(w.broadcaster.calls.length, 1, 'one send outstanding');
  w.broadcaster.gate = null;
  open();
  await w.scheduler.idle();
  t.is(w.broadcaster.maxInFlight, 1);
  t.deepEqual(sentTxids(w), txids);
  t.like(await w.state(id), { state: State.Broadcast, rung: 2 });
});

test('inputs spent by another rung that the network knows: followed, not rejected; the broadcaster is told the other rungs', async (t) => {
  const w = await schedulerWorld(t);
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  w.estimate = rateOf(ladder, 1);
  w.broadcaster.next = [{ kind: 'superseded', txid: txids[0]! }];
  await w.scheduler.tick();
  await w.scheduler.idle();
  t.deepEqual(w.broadcaster.calls, [{ txids: [txids[1]!], ownTxids: [txids[0]!, txids[2]!] }]);
  const r = await w.state(id);
  t.like(r, { state: State.Broadcast, rung: 1 });
  t.deepEqual(followed(r), [{ rung: 0, txid: txids[0] }]);
  w.tracker.answers.set(txids[0]!, { kind: 'confirmed', blockHeight: 98, blockHash: '03'.repeat(32) });
  await w.settle();
  t.like(await w.state(id), { state: State.Confirmed, txid: txids[0] });
});

test('a bare transaction is told of no other rungs and shows no ladder fields', async (t) => {
  const w = await schedulerWorld(t);
  const { id, txid } = await w.submit(100);
  w.estimate = 30;
  await w.settle();
  t.deepEqual(w.broadcaster.calls, [{ txids: [txid], ownTxids: [] }]);
  const view = viewOf(await w.state(id));
  t.deepEqual(Object.keys(view).sort(), ['broadcastAt', 'confirmations', 'id', 'locktime', 'locktimeType', 'status', 'txid']);
});

test('a restart between two rungs resumes at the rung it climbed to, whatever the estimate says now', async (t) => {
  const w = await schedulerWorld(t, { feeBumpBlocks: 2 });
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  await w.settle();
  w.broadcaster.hangs.add(txids[1]!); // the "kill" comes while rung 1 is out
  w.mine(2);
  w.nowMs += 30_000;
  await w.scheduler.tick(); // tracking climbs: rung 1 is stored before it is sent
  await w.scheduler.idle();
  await w.scheduler.tick();
  t.like(await w.state(id), { state: State.Broadcasting, rung: 1, sentHeight: null });
  t.deepEqual(sentTxids(w), [txids[0], txids[1]]);

  w.broadcaster.hangs.clear();
  w.estimate = rateOf(ladder, 0); // a fresh choice would go back to rung 0
  w.restart();
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[0], txids[1], txids[1]], 'rung 1 again, opened from the sealed blob');
  const r = await w.state(id);
  t.like(r, { state: State.Broadcast, rung: 1, txid: txids[1], sentHeight: 102 });
  t.deepEqual(followed(r), [{ rung: 0, txid: txids[0] }, { rung: 1, txid: txids[1] }]);
});

test('a restart after a fee refusal resumes at the next rung, never the refused one', async (t) => {
  const w = await schedulerWorld(t);
  const { id, txids } = await w.submitLadder(100, FEES);
  w.broadcaster.next = [{ kind: 'fee_too_low', reason: 'min relay fee not met' }];
  w.broadcaster.hangs.add(txids[1]!);
  await w.scheduler.tick();
  t.like(await w.state(id), { state: State.Broadcasting, rung: 1 });
  w.broadcaster.hangs.clear();
  w.restart();
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[0], txids[1], txids[1]]);
  t.like(await w.state(id), { state: State.Broadcast, rung: 1 });
});

test('packages sharing a parent: a rung asks about every transaction of the bundle, those sent before first; tracking follows each rung\'s child', async (t) => {
  const w = await schedulerWorld(t, { feeBumpBlocks: 1 });
  const { id, ladder, parent, children: [c0, c1, c2] } = await w.submitSharedParent(100, FEES);
  await w.settle();
  t.deepEqual(w.broadcaster.calls, [{ txids: [parent, c0], ownTxids: [parent, c1, c2] }]);
  t.deepEqual(followed(await w.state(id)), [{ rung: 0, txid: c0 }], 'the child: the parent is in every rung');

  // Rung 1 goes out one block later, but C0 was mined just before: its inputs are spent by C0.
  w.broadcaster.next = [{ kind: 'superseded', txid: c0! }];
  w.mine(1);
  w.nowMs += 30_000;
  await w.settle();
  t.deepEqual(w.broadcaster.calls[1], { txids: [parent, c1], ownTxids: [c0, parent, c2] }, 'the child sent before is asked about first');
  t.like(await w.state(id), { state: State.Broadcast });

  w.tracker.answers.set(c0!, { kind: 'confirmed', blockHeight: 101, blockHash: '04'.repeat(32) });
  w.mine(2);
  w.nowMs += 30_000;
  await w.settle();
  t.deepEqual([...new Set(w.tracker.asked)], [c0], 'children only, never the shared parent');
  const view = viewOf(await w.state(id));
  t.like(view, { status: 'confirmed', rung: 0, feeRate: Math.round(rateOf(ladder, 0) * 1000) / 1000, txid: c0 });
  t.deepEqual(view.txids, [parent, c0]);
});

test('an older rung that confirms: rung, feeRate, txids and txid all describe it, before and at the configured depth', async (t) => {
  const w = await schedulerWorld(t, { feeBumpBlocks: 1 });
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  await w.settle();
  w.mine(1);
  w.nowMs += 30_000;
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[0], txids[1]]);
  t.like(viewOf(await w.state(id)), { status: 'broadcast', rung: 1, txid: txids[1], feeRate: rateOf(ladder, 1) });

  w.tracker.answers.set(txids[0]!, { kind: 'confirmed', blockHeight: 102, blockHash: '05'.repeat(32) });
  w.mine(1);
  w.nowMs += 30_000;
  await w.settle();
  const view = viewOf(await w.state(id));
  t.like(view, { status: 'broadcast', confirmations: 1, rung: 0, txid: txids[0], feeRate: rateOf(ladder, 0) });
  t.deepEqual(view.txids, [txids[0]]);
  w.mine(2);
  w.nowMs += 30_000;
  await w.settle();
  t.like(viewOf(await w.state(id)), { status: 'confirmed', confirmations: 3, rung: 0, txid: txids[0], feeRate: rateOf(ladder, 0), txids: [txids[0]] });
  t.is(w.broadcaster.calls.length, 2, 'no third rung once one had confirmed');
});

test('until an explorer takes a rung the status shows none: not after an unreachable or a non-final attempt; the txid is the rung tried', async (t) => {
  const w = await schedulerWorld(t);
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  w.estimate = rateOf(ladder, 1);
  w.broadcaster.next = [{ kind: 'unreachable', reason: 'ECONNREFUSED' }];
  await w.settle();
  for (const after of ['unreachable', 'non-final']) {
    const view = viewOf(await w.state(id));
    t.like(view, { status: 'broadcasting', rungs: 3, txid: txids[1] }, after);
    for (const field of ['rung', 'feeRate', 'txids']) t.false(field in view, `${field} after ${after}`);
    w.broadcaster.next = [{ kind: 'non_final', reason: 'non-final' }];
    w.nowMs += 600_000;
    await w.settle();
  }
  t.deepEqual(sentTxids(w), [txids[1], txids[1]]);
});

test('opened, not yet sent: the txid is the first transaction of the rung the estimate picks', async (t) => {
  const w = await schedulerWorld(t);
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  w.estimate = rateOf(ladder, 2);
  w.broadcaster.gate = new Promise(() => undefined); // the send never comes back
  await w.scheduler.tick();
  t.like(viewOf(await w.state(id)), { status: 'broadcasting', rungs: 3, txid: txids[2] });
});

test('held non-final with nothing accepted: the rung is chosen again at the estimate of the tip that frees it', async (t) => {
  const w = await schedulerWorld(t);
  const { id, ladder, txids } = await w.submitLadder(100, FEES);
  w.estimate = rateOf(ladder, 2);
  w.broadcaster.next = [{ kind: 'non_final', reason: 'non-BIP68-final' }];
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[2]]);
  w.estimate = rateOf(ladder, 0); // weeks later, a calm market
  w.mine(1);
  w.nowMs += 60_000;
  await w.settle();
  t.deepEqual(sentTxids(w), [txids[2], txids[0]]);
  t.like(viewOf(await w.state(id)), { status: 'broadcast', rung: 0, txid: txids[0] });
});
