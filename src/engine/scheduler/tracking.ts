// Step of `broadcast` records: every rung that went out is looked up through the tracker (SPEC §5, §7)
// until one is confirmed at the configured depth; a vanished rung is sent again, a slow one replaced.
import { State, type DueRecord } from '../../domain/record.js';
import { purgeAt } from '../../domain/retention.js';
import { bumpDue, nextRung } from '../../domain/climbing.js';
import type { Transition } from '../../store/store.js';
import type { TxStatusAnswer } from '../../chain/esplora.js';
import type { Tracker } from '../tracker.js';
import { nowSeconds } from '../../util/clock.js';
import { describeError, type Logger } from '../../util/log.js';
import { climbTo } from './sending.js';
import type { Settings } from './options.js';
import type { Context } from './context.js';

/** What the tracker said about one of the record's transactions. */
interface Seen {
  readonly txid: string;
  readonly answer: TxStatusAnswer;
}

/** Claims the broadcast records due for a check and starts checking them; answers how many. */
export async function trackDue(ctx: Context, now: number): Promise<number> {
  const { store, batchSize } = ctx.options;
  const due = ctx.claims.take(await store.dueByWake(State.Broadcast, now, batchSize));
  for (const r of due) void track(ctx, r).finally(() => ctx.claims.release(r.id));
  return due.length;
}

async function track(ctx: Context, r: DueRecord): Promise<void> {
  const txids = followed(r);
  if (txids.length === 0) return;
  const { store, clock, log } = ctx.options;
  try {
    const seen = await lookUp(ctx.options.tracker, txids);
    const t = afterCheck(ctx, r, seen, nowSeconds(clock));
    if (t.to === State.Confirmed) ctx.ladders.forget(r.id);
    logCheck(log, t, seen.txid);
    await store.transition([t]);
  } catch (err) {
    log.log('error', 'track_failed', { error: describeError(err) });
  }
}

function logCheck(log: Logger, t: Transition, txid: string): void {
  if (t.to === State.Confirmed) log.log('info', 'confirmed', { txid });
  else if (t.to === State.Broadcasting && t.rung !== undefined) log.log('info', 'climb', { rung: t.rung, reason: 'unconfirmed' });
  else if (t.to === State.Broadcasting) log.log('info', 'rebroadcast', { txid });
}

/** The child of every rung that went out (SentRung: its last transaction), the last sent first. */
function followed(r: DueRecord): string[] {
  if (r.sent.length === 0) return r.txid ? [r.txid] : [];
  return [...new Set(r.sent.map((s) => s.txid).reverse())];
}

/** Asks about each in turn until one is confirmed; otherwise the answer about the current rung. */
async function lookUp(tracker: Tracker, txids: readonly string[]): Promise<Seen> {
  let current: Seen | null = null;
  for (const txid of txids) {
    const seen = { txid, answer: await askStatus(tracker, txid) };
    if (seen.answer.kind === 'confirmed') return seen;
    current ??= seen;
  }
  return current!;
}

async function askStatus(tracker: Tracker, txid: string): Promise<TxStatusAnswer> {
  try {
    return await tracker.status(txid);
  } catch (err) {
    return { kind: 'unreachable', reason: describeError(err) };
  }
}

function afterCheck(ctx: Context, r: DueRecord, seen: Seen, now: number): Transition {
  const { options } = ctx;
  const from = [State.Broadcast];
  const later = now + options.checkIntervalSeconds;
  switch (seen.answer.kind) {
    case 'confirmed':
      return afterConfirmed(options, r, seen.txid, depthOf(options, seen.answer.blockHeight), now);
    case 'mempool':
      return climbIfDue(ctx, r, now) ?? { id: r.id, from, to: State.Broadcast, wake: later, confirmations: 0 };
    case 'unknown':
      // Dropped from the mempool or reorganised out: send it again.
      return { id: r.id, from, to: State.Broadcasting, wake: now, confirmations: null, attempts: 0 };
    case 'unreachable':
      return { id: r.id, from, to: State.Broadcast, wake: later };
  }
}

/**
 * The transaction that confirmed becomes the record's txid; the status then shows the rung it ends,
 * with that rung's fee rate and transactions (record.ts shownRung; SPEC §3, §7). The ladder's place
 * (`rung`) stays where it climbed to, should a reorganisation undo the confirmation.
 */
function afterConfirmed(options: Settings, r: DueRecord, txid: string, depth: number, now: number): Transition {
  const from = [State.Broadcast];
  if (depth >= options.confirmations) {
    return { id: r.id, from, to: State.Confirmed, wake: purgeAt(now, options.retentionSeconds), wipe: true, confirmations: depth, txid };
  }
  return { id: r.id, from, to: State.Broadcast, wake: now + options.checkIntervalSeconds, confirmations: depth, txid };
}

/** Still unconfirmed --fee-bump-blocks blocks after it went out: the next rung replaces it, if there is one. */
function climbIfDue(ctx: Context, r: DueRecord, now: number): Transition | null {
  const next = nextRung(r.rung ?? 0, r.rungs);
  if (next === null || !bumpDue(r.sentHeight, ctx.options.tip()?.height ?? null, ctx.options.feeBumpBlocks)) return null;
  return climbTo(r, next, now, ctx.ladders.get(r.id));
}

function depthOf(options: Settings, blockHeight: number): number {
  const tip = options.tip();
  return tip ? Math.max(1, tip.height - blockHeight + 1) : 1;
}
