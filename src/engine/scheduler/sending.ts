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
import { ownTxids, rungFields, sentEntry, type Ladder } from './ladders.js';
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

/** Sends a claimed record's rung: the first send chooses it, one refused for its fee is followed at once by the next (SPEC §7). */
export async function sendRecord(ctx: Context, record: DueRecord): Promise<void> {
  const ladder = ctx.ladders.get(record.id);
  if (!ladder) return;
  let index = record.rung ?? chooseRung(ladder.rungs, ctx.options.feeEstimate());
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
 * against it. Without the ladder in memory (after a restart) the send fills in its details.
 */
export function climbTo(r: DueRecord, next: number, now: number, ladder: Ladder | undefined): Transition {
  const details = ladder ? rungFields(ladder, next) : { rung: next };
  return { id: r.id, from: [r.state], to: State.Broadcasting, wake: now, attempts: 0, holdHeight: null, sentHeight: null, confirmations: null, ...details };
}

export function afterBroadcast(options: Settings, r: DueRecord, { ladder, index, outcome, judged }: Attempt, now: number): Transition {
  const base = { id: r.id, from: [State.Broadcasting], ...rungFields(ladder, index) };
  const later = now + options.checkIntervalSeconds;
  switch (outcome.kind) {
    case 'accepted':
      return { ...base, to: State.Broadcast, wake: later, broadcastAt: r.broadcastAt ?? now, attempts: 0, holdHeight: null, confirmations: 0, ...sentNow(r, judged, ladder, index) };
    case 'superseded':
      // Another transaction of the bundle is known: tracking (at once) finds out whether its rung confirmed.
      return { ...base, to: State.Broadcast, wake: now, broadcastAt: r.broadcastAt ?? now, attempts: 0, holdHeight: null, confirmations: 0, ...sentNow(r, judged, ladder, rungHolding(ladder, r.sent, outcome.txid) ?? index) };
    case 'non_final':
    case 'fee_too_low':
      // Retried once the tip has moved: a later block may make it final, or lower the fee floor.
      return { ...base, to: State.Broadcasting, wake: later, holdHeight: judged?.height ?? 0 };
    case 'rejected':
      return { ...base, to: State.Rejected, wake: purgeAt(now, options.retentionSeconds), wipe: true, errorCode: outcome.code };
    case 'unreachable':
      return { ...base, to: State.Broadcasting, wake: now + backoff(options, r.attempts), attempts: r.attempts + 1 };
  }
}

/** Rung `rung` went out: it becomes the last of `sent` (tracking follows its child), and the bump counts blocks from the tip it met first. */
function sentNow(r: DueRecord, judged: Tip | null, ladder: Ladder, rung: number): Pick<Transition, 'sentHeight' | 'sent'> {
  return { sentHeight: r.sentHeight ?? judged?.height ?? null, sent: [...r.sent.filter((s) => s.rung !== rung), sentEntry(ladder, rung)] };
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
