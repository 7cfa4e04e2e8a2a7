// A scheduler driven tick by tick for tests: a real SQLite store and the real opener; hand-written
// fakes for the network side (broadcaster, tracker), the chain tip, the clock and the fee estimate.
import nacl from 'tweetnacl';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Transaction } from 'bitcoinjs-lib';
import { Store } from '../../src/store/store.js';
import { Scheduler, type SchedulerOptions } from '../../src/engine/scheduler.js';
import { InlineOpener } from '../../src/engine/opener.js';
import type { Broadcaster, BroadcastOutcome } from '../../src/engine/broadcaster.js';
import type { Tracker } from '../../src/engine/tracker.js';
import type { TxStatusAnswer } from '../../src/chain/esplora.js';
import { seal } from '../../src/crypto/sealed-box.js';
import { pad } from '../../src/crypto/padding.js';
import type { Rung } from '../../src/domain/bundle.js';
import type { Tip } from '../../src/domain/locktime.js';
import { silentLogger } from '../../src/util/log.js';
import { ladderPlaintext, sharedParentPlaintext } from './ladders.js';

/** One call of the broadcaster: the rung's txids (parents first) and the bundle's others it was told of. */
export interface SentRung {
  readonly txids: string[];
  readonly ownTxids: string[];
}

export class FakeBroadcaster implements Broadcaster {
  /** Every transaction sent, in order. */
  readonly sent: Array<{ rawHex: string; txid: string }> = [];
  readonly calls: SentRung[] = [];
  /** Outcomes to answer, first to last; then `answer`, then accepted. */
  next: BroadcastOutcome[] = [];
  answer: ((txids: readonly string[]) => BroadcastOutcome) | null = null;
  /** While set, every call waits on it: a send that is "in flight". */
  gate: Promise<void> | null = null;
  /** Sends of these transactions never come back (the process dies while they are out). */
  readonly hangs = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  async broadcast(rung: Rung, ownTxids: readonly string[] = []): Promise<BroadcastOutcome> {
    for (const { hex, txid } of rung.txs) this.sent.push({ rawHex: hex, txid });
    const txids = rung.txs.map((t) => t.txid);
    this.calls.push({ txids, ownTxids: [...ownTxids] });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.gate) await this.gate;
      if (txids.some((txid) => this.hangs.has(txid))) await new Promise(() => undefined);
      return this.next.shift() ?? this.answer?.(txids) ?? { kind: 'accepted', verified: true };
    } finally {
      this.inFlight--;
    }
  }
}

export class FakeTracker implements Tracker {
  answers = new Map<string, TxStatusAnswer>();
  readonly asked: string[] = [];
  async status(txid: string): Promise<TxStatusAnswer> {
    this.asked.push(txid);
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

export type SchedulerWorld = Awaited<ReturnType<typeof schedulerWorld>>;

export async function schedulerWorld(t: { teardown(fn: () => unknown): void }, options: Partial<SchedulerOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-sched-'));
  const store = await Store.open(dir, { maxPending: 1000 });
  const w = {
    dir,
    store,
    broadcaster: new FakeBroadcaster(),
    tracker: new FakeTracker(),
    tip: { height: 100, hash: '01'.repeat(32), medianTime: 1_700_000_000 } as Tip | null,
    nowMs: 1_700_000_000_000,
    estimate: null as number | null,
    scheduler: null as unknown as Scheduler,
    async submitSealed(plaintext: Uint8Array, locktime: number, opts: { window?: number } = {}) {
      const sealed = Buffer.from(seal(key.publicKey, plaintext));
      const id = createHash('sha256').update(sealed).digest().subarray(0, 16);
      const outcome = await store.submit({ id, keyId: Buffer.from(keyId, 'hex'), locktime, window: opts.window ?? 0, sealed, tokenHash: Buffer.alloc(32) });
      if (outcome.kind === 'full' || outcome.kind === 'disk_full') throw new Error(outcome.kind);
      return outcome.record.id;
    },
    async submit(locktime: number, opts: { window?: number; declared?: number; plaintext?: Uint8Array } = {}) {
      const tx = makeTx(locktime);
      const id = await w.submitSealed(opts.plaintext ?? pad(tx.raw), opts.declared ?? locktime, opts);
      return { id, ...tx };
    },
    async submitLadder(locktime: number, fees: readonly number[]) {
      const { plaintext, ladder } = ladderPlaintext(locktime, fees);
      return { id: await w.submitSealed(plaintext, locktime), ladder, txids: ladder.rungs.map((r) => r.txs[0]!.txid) };
    },
    /** Rungs [parent, child i]: `children` are the children's txids, `parent` the one they share. */
    async submitSharedParent(locktime: number, fees: readonly number[]) {
      const { plaintext, ladder } = sharedParentPlaintext(locktime, fees);
      const children = ladder.rungs.map((r) => r.txs[1]!.txid);
      return { id: await w.submitSealed(plaintext, locktime), ladder, parent: ladder.rungs[0]!.txs[0]!.txid, children };
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
    /** A scheduler as a fresh process makes it: nothing in memory, everything from the store. */
    restart() {
      w.scheduler = new Scheduler({
        store,
        opener: new InlineOpener([{ keyId, ...key }]),
        broadcaster: w.broadcaster,
        tracker: w.tracker,
        clock: { now: () => w.nowMs },
        tip: () => w.tip,
        log: silentLogger,
        confirmations: 3,
        checkIntervalSeconds: 30,
        retentionSeconds: 86_400,
        retryMinSeconds: 10,
        retryMaxSeconds: 600,
        randomInt: (max) => max - 1,
        feeEstimate: () => w.estimate,
        ...options,
      });
    },
  };
  w.restart();
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return w;
}
