// The scheduler: on every tip and every second, finds what is due through the store's
// (state, wake) index, and drives each record on: pending → (window) → opened → broadcast →
// confirmed. Every step is a stored state first, so a restart resumes wherever it stopped.
import { randomInt } from 'node:crypto';
import { isMature, type Tip } from '../domain/locktime.js';
import { State, type DueRecord } from '../domain/record.js';
import type { Store, Transition } from '../store/store.js';
import type { Opener } from './opener.js';
import type { Broadcaster, BroadcastOutcome } from './broadcaster.js';
import type { Tracker } from './tracker.js';
import type { TxStatusAnswer } from '../chain/esplora.js';
import { purgeAt } from './intake.js';
import { nowSeconds, type Clock } from '../util/clock.js';
import { describeError, type Logger } from '../util/log.js';

export interface SchedulerOptions {
  readonly store: Store;
  readonly opener: Opener;
  readonly broadcaster: Broadcaster;
  readonly tracker: Tracker;
  readonly clock: Clock;
  readonly tip: () => Tip | null;
  readonly log: Logger;
  readonly confirmations: number;
  /** Seconds between status checks of a broadcast transaction (the chain poll interval). */
  readonly checkIntervalSeconds: number;
  readonly retentionSeconds: number;
  readonly retryMinSeconds: number;
  readonly retryMaxSeconds: number;
  readonly batchSize?: number;
  readonly maxConcurrentBroadcasts?: number;
  readonly tickIntervalMs?: number;
  /** Uniform integer in [0, maxExclusive): the window's random moment. */
  readonly randomInt?: (maxExclusive: number) => number;
}

export interface TickStats {
  opened: number;
  invalid: number;
  windowed: number;
  tracked: number;
  held: number;
  /** True when a batch was full and more may be due right away. */
  more: boolean;
}

interface Opened {
  readonly txid: string;
  readonly rawHex: string;
}

const RAW_CACHE_LIMIT = 20_000;
const PURGE_EVERY_MS = 60 * 60_000;

export class Scheduler {
  private readonly inflight = new Set<string>();
  /** Opened transactions, in memory only (never on disk), kept for retries and rebroadcasts. */
  private readonly raw = new Map<string, Opened>();
  private readonly sendQueue: string[] = [];
  private sending = 0;
  private tracking = 0;
  private ticking: Promise<TickStats> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private lastPurge = 0;
  private readonly batch: number;
  private readonly maxSending: number;
  private readonly random: (maxExclusive: number) => number;
  private idleWaiters: Array<() => void> = [];
  /** Batches in the opener: the next one is fetched while one is opening, so its threads never wait on us. */
  private readonly opening = new Set<Promise<{ opened: number; invalid: number }>>();
  private openingRecords = 0;

  constructor(private readonly o: SchedulerOptions) {
    this.batch = o.batchSize ?? 256;
    this.maxSending = o.maxConcurrentBroadcasts ?? 16;
    this.random = o.randomInt ?? ((max) => (max <= 1 ? 0 : randomInt(max)));
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.o.tickIntervalMs ?? 1000);
      });
    };
    loop();
  }

  /** Called when the chain tip moves: maturity may have changed for many records. */
  poke(): void {
    if (!this.stopped) void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.all(this.opening);
  }

  /** Resolves when nothing is queued or being sent (for benchmarks and tests). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.sending === 0 && this.tracking === 0 && this.sendQueue.length === 0;
  }

  private wakeIdleWaiters(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  tick(): Promise<TickStats> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.runTicks().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async runTicks(): Promise<TickStats> {
    let stats: TickStats;
    do {
      this.again = false;
      try {
        stats = await this.tickOnce();
      } catch (err) {
        this.o.log.log('error', 'tick_failed', { error: describeError(err) });
        stats = { opened: 0, invalid: 0, windowed: 0, tracked: 0, held: 0, more: false };
      }
    } while ((this.again || stats.more) && !this.stopped);
    return stats;
  }

  private fresh(records: DueRecord[]): DueRecord[] {
    return records.filter((r) => !this.inflight.has(r.id));
  }

  private async tickOnce(): Promise<TickStats> {
    const { store } = this.o;
    const now = nowSeconds(this.o.clock);
    const tip = this.o.tip();
    const stats: TickStats = { opened: 0, invalid: 0, windowed: 0, tracked: 0, held: 0, more: false };

    // 1. Pending records that matured: those with a window get their random moment, the rest open now.
    // Records being opened are still due; ask for enough rows to see past them.
    const limit = this.batch + this.openingRecords;
    const matured = await store.dueMature(tip, limit);
    stats.more ||= matured.length === limit;
    const toWindow: Transition[] = [];
    const toOpen: DueRecord[] = [];
    for (const r of this.fresh(matured)) {
      if (!isMature(r.locktime, tip)) continue;
      if (r.window > 0) toWindow.push({ id: r.id, from: [State.Pending], to: State.Windowed, wake: now + this.random(r.window + 1) });
      else toOpen.push(r);
    }
    if (toWindow.length) stats.windowed = (await store.transition(toWindow)).size;

    // 2. Windowed records whose moment came.
    const released = await store.dueByWake(State.Windowed, now, limit);
    stats.more ||= released.length === limit;
    toOpen.push(...this.fresh(released));

    // 3. Broadcasts to retry; non-final ones only once the tip has moved past where they were refused.
    const retries = this.fresh(await store.dueByWake(State.Broadcasting, now, this.batch));
    const held: Transition[] = [];
    for (const r of retries) {
      if (r.holdHeight !== null && (tip === null || tip.height <= r.holdHeight)) {
        held.push({ id: r.id, from: [State.Broadcasting], to: State.Broadcasting, wake: now + this.o.checkIntervalSeconds });
      } else if (this.raw.has(r.id)) {
        this.enqueueSend(r.id);
      } else {
        toOpen.push(r);
      }
    }
    if (held.length) stats.held = (await store.transition(held)).size;

    if (toOpen.length) {
      const count = toOpen.length;
      this.openingRecords += count;
      const batch: Promise<{ opened: number; invalid: number }> = this.open(toOpen, now)
        .catch((err) => {
          this.o.log.log('error', 'open_failed', { error: describeError(err) });
          return { opened: 0, invalid: 0 };
        })
        .finally(() => {
          this.openingRecords -= count;
          this.opening.delete(batch);
        });
      this.opening.add(batch);
    }
    // With more due, keep at most two batches in the opener; otherwise finish before the tick ends.
    while (this.opening.size > (stats.more ? 1 : 0)) {
      const done = await Promise.race(this.opening);
      stats.opened += done.opened;
      stats.invalid += done.invalid;
    }

    // 4. Broadcast transactions due for a status check.
    const checks = this.fresh(await store.dueByWake(State.Broadcast, now, this.batch));
    for (const r of checks) void this.track(r);
    stats.tracked = checks.length;

    if (this.o.clock.now() - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = this.o.clock.now();
      const purged = await store.purge(now);
      await store.checkpoint();
      if (purged) this.o.log.log('info', 'purged', { records: purged });
    }
    return stats;
  }

  private async open(records: DueRecord[], now: number): Promise<{ opened: number; invalid: number }> {
    for (const r of records) this.inflight.add(r.id);
    let openable: DueRecord[] = records;
    try {
      const blobs = await this.o.store.sealedBlobs(records.map((r) => r.id));
      openable = records.filter((r) => blobs.has(r.id));
      for (const r of records) if (!blobs.has(r.id)) this.inflight.delete(r.id);
      const results = await this.o.opener.open(openable.map((r) => ({ id: r.id, keyId: r.keyId, locktime: r.locktime, sealed: blobs.get(r.id)! })));
      const transitions: Transition[] = [];
      const openedNow: Array<{ id: string; opened: Opened }> = [];
      results.forEach((result, i) => {
        const r = openable[i]!;
        if (result.kind === 'invalid') {
          transitions.push({ id: r.id, from: [r.state], to: State.Invalid, wake: purgeAt(now, this.o.retentionSeconds), wipe: true, errorCode: result.code });
        } else {
          const opened = { txid: result.txid, rawHex: Buffer.from(result.raw).toString('hex') };
          openedNow.push({ id: r.id, opened });
          if (r.state !== State.Broadcasting) {
            transitions.push({ id: r.id, from: [r.state], to: State.Broadcasting, wake: now, txid: result.txid, attempts: 0 });
          }
        }
      });
      const changed = await this.o.store.transition(transitions);
      let invalid = 0;
      for (const t of transitions) if (t.to === State.Invalid && changed.has(t.id)) invalid++;
      const byId = new Map(openable.map((r) => [r.id, r]));
      const toSend = new Set<string>();
      for (const { id, opened: o } of openedNow) {
        // A record cancelled while it was being opened did not change state: it is never sent.
        if (byId.get(id)!.state !== State.Broadcasting && !changed.has(id)) continue;
        this.remember(id, o);
        toSend.add(id);
      }
      for (const r of openable) if (!toSend.has(r.id)) this.inflight.delete(r.id);
      for (const id of toSend) this.enqueueSend(id, true);
      return { opened: toSend.size, invalid };
    } catch (err) {
      for (const r of openable) this.inflight.delete(r.id);
      throw err;
    }
  }

  private remember(id: string, opened: Opened): void {
    if (this.raw.size >= RAW_CACHE_LIMIT) {
      const oldest = this.raw.keys().next().value;
      if (oldest !== undefined) this.raw.delete(oldest);
    }
    this.raw.set(id, opened);
  }

  private enqueueSend(id: string, alreadyInflight = false): void {
    if (!alreadyInflight && this.inflight.has(id)) return;
    this.inflight.add(id);
    this.sendQueue.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.sending < this.maxSending && this.sendQueue.length > 0) {
      const id = this.sendQueue.shift()!;
      this.sending++;
      void this.send(id).finally(() => {
        this.sending--;
        this.inflight.delete(id);
        this.pump();
        this.wakeIdleWaiters();
      });
    }
  }

  private async send(id: string): Promise<void> {
    const opened = this.raw.get(id);
    if (!opened) return;
    let outcome: BroadcastOutcome;
    try {
      outcome = await this.o.broadcaster.broadcast(opened.rawHex, opened.txid);
    } catch (err) {
      outcome = { kind: 'unreachable', reason: describeError(err) };
    }
    const record = await this.o.store.get(id);
    if (!record || record.state !== State.Broadcasting) return;
    const now = nowSeconds(this.o.clock);
    const t = this.afterBroadcast(record, outcome, now);
    if (t.to === State.Rejected) this.raw.delete(id);
    this.o.log.log(outcome.kind === 'accepted' ? 'info' : 'warn', 'broadcast', {
      txid: opened.txid,
      outcome: outcome.kind,
      ...(outcome.kind === 'accepted' ? {} : { reason: outcome.reason }),
    });
    await this.o.store.transition([t]).catch((err) => this.o.log.log('error', 'store_failed', { error: describeError(err) }));
  }

  private afterBroadcast(r: DueRecord, outcome: BroadcastOutcome, now: number): Transition {
    const from = [State.Broadcasting];
    switch (outcome.kind) {
      case 'accepted':
        return { id: r.id, from, to: State.Broadcast, wake: now + this.o.checkIntervalSeconds, broadcastAt: now, attempts: 0, holdHeight: null, confirmations: 0 };
      case 'non_final':
        return { id: r.id, from, to: State.Broadcasting, wake: now + this.o.checkIntervalSeconds, holdHeight: this.o.tip()?.height ?? 0 };
      case 'rejected':
        return { id: r.id, from, to: State.Rejected, wake: purgeAt(now, this.o.retentionSeconds), wipe: true, errorCode: outcome.code };
      case 'unreachable':
        return { id: r.id, from, to: State.Broadcasting, wake: now + this.backoff(r.attempts), attempts: r.attempts + 1 };
    }
  }

  /** Capped exponential backoff with jitter (50–100 %), forever: nothing is given up on. */
  backoff(attempts: number): number {
    const ceiling = Math.min(this.o.retryMaxSeconds, this.o.retryMinSeconds * 2 ** Math.min(attempts, 30));
    return Math.max(1, Math.round(ceiling / 2 + this.random(Math.floor(ceiling / 2) + 1)));
  }

  private async track(r: DueRecord): Promise<void> {
    if (!r.txid) return;
    this.inflight.add(r.id);
    this.tracking++;
    try {
      let answer: TxStatusAnswer;
      try {
        answer = await this.o.tracker.status(r.txid);
      } catch (err) {
        answer = { kind: 'unreachable', reason: describeError(err) };
      }
      const now = nowSeconds(this.o.clock);
      const t = this.afterCheck(r, answer, now);
      if (t.to === State.Confirmed) this.raw.delete(r.id);
      if (t.to === State.Confirmed || t.to === State.Broadcasting) {
        this.o.log.log('info', t.to === State.Confirmed ? 'confirmed' : 'rebroadcast', { txid: r.txid });
      }
      await this.o.store.transition([t]);
    } catch (err) {
      this.o.log.log('error', 'track_failed', { error: describeError(err) });
    } finally {
      this.inflight.delete(r.id);
      this.tracking--;
      this.wakeIdleWaiters();
    }
  }

  private afterCheck(r: DueRecord, answer: TxStatusAnswer, now: number): Transition {
    const from = [State.Broadcast];
    const later = now + this.o.checkIntervalSeconds;
    switch (answer.kind) {
      case 'confirmed': {
        const tip = this.o.tip();
        const depth = tip ? Math.max(1, tip.height - answer.blockHeight + 1) : 1;
        if (depth >= this.o.confirmations) {
          return { id: r.id, from, to: State.Confirmed, wake: purgeAt(now, this.o.retentionSeconds), wipe: true, confirmations: depth };
        }
        return { id: r.id, from, to: State.Broadcast, wake: later, confirmations: depth };
      }
      case 'mempool':
        return { id: r.id, from, to: State.Broadcast, wake: later, confirmations: 0 };
      case 'unknown':
        // Dropped from the mempool or reorganised out: send it again.
        return { id: r.id, from, to: State.Broadcasting, wake: now, confirmations: null, attempts: 0 };
      case 'unreachable':
        return { id: r.id, from, to: State.Broadcast, wake: later };
    }
  }
}
