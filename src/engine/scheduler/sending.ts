// Step of `broadcasting` records: each due one is sent from its ladder in memory (or opened again
// first, after a restart); the broadcaster's outcome decides the next state (SPEC §5, §7).
import type { Tip } from '../../domain/locktime.js';
import { State, type DueRecord } from '../../domain/record.js';
import { purgeAt } from '../../domain/retention.js';
import type { Transition } from '../../store/store.js';
import type { BroadcastOutcome, Broadcaster } from '../broadcaster.js';
import { nowSeconds } from '../../util/clock.js';
import { describeError, type Logger } from '../../util/log.js';
import { chooseRung, nextRung } from '../../domain/climbing.js';
import { cursorAt, firstTxid, ownTxids, sentEntry, type Ladder } from './ladders.js';
import type { Settings } from './options.js';
import type { Context } from './context.js';

export interface Retried {
  /** Records with no ladder in memory: to be opened again (not claimed yet). */
  readonly toOpen: DueRecord[];
  /** How many are held until the tip moves. */
  readonly held: number;
}

export async function retryDue(ctx: Context, tip: Tip | null, now: number): Promise<Retried> {
  const { store, batchSize, checkIntervalSeconds } = ctx.options;
  const due = ctx.claims.unclaimed(await store.dueByWake(State.Broadcasting, now, batchSize));
  const ready = due.filter((r) => !isHeld(r, tip));
  const toOpen = ready.filter((r) => !ctx.ladders.has(r.id));
  for (const r of ctx.claims.take(ready.filter((r) => ctx.ladders.has(r.id)))) ctx.sender.push(r);
  const later = due.filter((r) => isHeld(r, tip)).map((r): Transition => ({ id: r.id, from: [State.Broadcasting], to: State.Broadcasting, wake: now + checkIntervalSeconds }));
  return { toOpen, held: (await store.transition(later)).size };
}

/**
 * Non-final answers (and fee refusals of the top rung) are retried only once the tip has moved off the
 * height they were judged at: on past it as blocks come, or back below it (a reorganisation, or a
 * height that was never the real chain's), so no height, right or wrong, holds a record longer.
 */
function isHeld(r: DueRecord, tip: Tip | null): boolean {
  return r.holdHeight !== null && (tip === null || tip.height === r.holdHeight);
}

/** Sends a claimed record's rung: chosen until an explorer takes one, one refused for its fee followed at once by the next (SPEC §7). */
export async function sendRecord(ctx: Context, record: DueRecord): Promise<void> {
  const ladder = ctx.ladders.get(record.id);
  if (!ladder) return;
  let index = startingRung(ctx, record, ladder);
  let r = record;
  for (;;) {
    // The tip the explorers judge it against: it may move while the send is out.
    const judged = ctx.options.tip();
    const outcome = await broadcastRung(ctx.options.broadcaster, ladder, index, r.sent);
    const current = await ctx.options.store.get(record.id);
    if (!current || current.state !== State.Broadcasting) return;
    r = current;
    logOutcome(ctx.options.log, ladder, index, outcome);
    const next = outcome.kind === 'fee_too_low' ? nextRung(index, ladder.rungs.length) : null;
    if (next === null) return finish(ctx, current, { ladder, index, outcome, judged });
    // Stored before it is sent, so a restart resumes at this rung and never goes back.
    ctx.options.log.log('info', 'climb', { rung: next, reason: 'fee' });
    if (!(await save(ctx, climbTo(current, next, nowSeconds(ctx.options.clock), ladder)))) return;
    index = next;
  }
}

/**
 * Until an explorer has taken a rung, the one the estimate picks now (a record held non-final for
 * weeks meets another market than the one it matured in), never below one refused for its fee; after,
 * the rung the ladder has climbed to (stored before it is sent, so a restart never goes back).
 */
function startingRung(ctx: Context, r: DueRecord, ladder: Ladder): number {
  if (r.sent.length > 0) return r.rung ?? Math.max(...r.sent.map((s) => s.rung));
  return Math.max(chooseRung(ladder.rungs, ctx.options.feeEstimate()), r.rung ?? 0);
}

async function broadcastRung(broadcaster: Broadcaster, ladder: Ladder, index: number, sent: DueRecord['sent']): Promise<BroadcastOutcome> {
  try {
    // Inputs spent by any transaction of the bundle that the network knows are no rejection (SPEC §7).
    return await broadcaster.broadcast(ladder.rungs[index]!, ownTxids(ladder, sent, index));
  } catch (err) {
    return { kind: 'unreachable', reason: describeError(err) };
  }
}

function logOutcome(log: Logger, ladder: Ladder, index: number, outcome: BroadcastOutcome): void {
  log.log(outcome.kind === 'accepted' ? 'info' : 'warn', 'broadcast', {
    txid: ladder.rungs[index]!.txs[0]!.txid,
    ...(ladder.kind === 'bundle' ? { rung: index } : {}),
    outcome: outcome.kind,
    ...('reason' in outcome ? { reason: outcome.reason } : {}),
  });
}

/** One send of rung `index` of `ladder`, its outcome, and the tip when it went out. */
export interface Attempt {
  readonly ladder: Ladder;
  readonly index: number;
  readonly outcome: BroadcastOutcome;
  readonly judged: Tip | null;
}

async function finish(ctx: Context, r: DueRecord, attempt: Attempt): Promise<void> {
  const t = afterBroadcast(ctx.options, r, attempt, nowSeconds(ctx.options.clock));
  if (t.to === State.Rejected) ctx.ladders.forget(r.id);
  await save(ctx, t);
}

/** Applies one transition; a store failure is logged and the record retried from where it is stored. */
async function save(ctx: Context, t: Transition): Promise<boolean> {
  try {
    return (await ctx.options.store.transition([t])).has(t.id);
  } catch (err) {
    ctx.options.log.log('error', 'store_failed', { error: describeError(err) });
    return false;
  }
}

/**
 * The next rung becomes the one being sent; it has not been accepted yet, so no blocks count
 * against it, and the status keeps showing the one sent before. Without the ladder in memory
 * (after a restart) the send fills in its details.
 */
export function climbTo(r: DueRecord, next: number, now: number, ladder: Ladder | undefined): Transition {
  const details = ladder ? { ...cursorAt(ladder, next), ...tried(r, ladder, next) } : { rung: next };
  return { id: r.id, from: [r.state], to: State.Broadcasting, wake: now, attempts: 0, holdHeight: null, sentHeight: null, confirmations: null, ...details };
}

/** Until an explorer has taken a rung, the txid is the first of the one tried (SPEC §3: it appears once opened). */
function tried(r: DueRecord, ladder: Ladder, index: number): Pick<Transition, 'txid'> {
  return r.sent.length === 0 ? { txid: firstTxid(ladder, index) } : {};
}

export function afterBroadcast(options: Settings, r: DueRecord, { ladder, index, outcome, judged }: Attempt, now: number): Transition {
  const base = { id: r.id, from: [State.Broadcasting], ...tried(r, ladder, index) };
  const later = now + options.checkIntervalSeconds;
  const out = { to: State.Broadcast, broadcastAt: r.broadcastAt ?? now, attempts: 0, holdHeight: null, confirmations: 0, ...cursorAt(ladder, index) };
  switch (outcome.kind) {
    case 'accepted':
      return { ...base, ...out, wake: later, ...sentNow(r, judged, ladder, index) };
    case 'superseded':
      // Another transaction of the bundle is known: tracking (at once) finds out whether its rung confirmed.
      return { ...base, ...out, wake: now, ...sentNow(r, judged, ladder, rungHolding(ladder, r.sent, outcome.txid) ?? index) };
    case 'non_final':
      // Retried once the tip has moved, at the rung the estimate then picks: nothing was sent.
      return { ...base, to: State.Broadcasting, wake: later, holdHeight: judged?.height ?? 0 };
    case 'fee_too_low':
      // The top rung: retried once the tip has moved (the fee floor may fall), never a cheaper one.
      return { ...base, to: State.Broadcasting, wake: later, holdHeight: judged?.height ?? 0, ...cursorAt(ladder, index) };
    case 'rejected':
      return { ...base, to: State.Rejected, wake: purgeAt(now, options.retentionSeconds), wipe: true, errorCode: outcome.code };
    case 'unreachable':
      return { ...base, to: State.Broadcasting, wake: now + backoff(options, r.attempts), attempts: r.attempts + 1 };
  }
}

/**
 * Rung `rung` went out: it becomes the last of `sent` (tracking follows its child, the status shows
 * it) and its first transaction the txid; the bump counts blocks from the tip it met first.
 */
function sentNow(r: DueRecord, judged: Tip | null, ladder: Ladder, rung: number): Pick<Transition, 'txid' | 'sentHeight' | 'sent'> {
  return { txid: firstTxid(ladder, rung), sentHeight: r.sentHeight ?? judged?.height ?? null, sent: [...r.sent.filter((s) => s.rung !== rung), sentEntry(ladder, rung)] };
}

/** The rung that holds a known transaction: the last sent one that does, else the first (a parent may be in every rung). */
function rungHolding(ladder: Ladder, sent: DueRecord['sent'], txid: string): number | null {
  const holds = (i: number) => ladder.rungs[i]?.txs.some((t) => t.txid === txid) ?? false;
  const sentRung = [...sent].reverse().find((s) => holds(s.rung));
  if (sentRung) return sentRung.rung;
  const index = ladder.rungs.findIndex((_, i) => holds(i));
  return index >= 0 ? index : null;
}

/** Capped exponential backoff with jitter (50–100 %), forever: nothing is given up on. */
export function backoff(options: Settings, attempts: number): number {
  const ceiling = Math.min(options.retryMaxSeconds, options.retryMinSeconds * 2 ** Math.min(attempts, 30));
  return Math.max(1, Math.round(ceiling / 2 + options.randomInt(Math.floor(ceiling / 2) + 1)));
}
