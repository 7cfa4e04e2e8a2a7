// Step of `broadcasting` records: each due one is sent from its ladder in memory (or opened again
// first, after a restart), unless the network said non-final at a tip that has not moved yet.
// The broadcaster's outcome decides the next state (SPEC §5).
import type { Tip } from '../../domain/locktime.js';
import { State, type DueRecord } from '../../domain/record.js';
import { purgeAt } from '../../domain/retention.js';
import type { Transition } from '../../store/store.js';
import type { BroadcastOutcome, Broadcaster } from '../broadcaster.js';
import { nowSeconds } from '../../util/clock.js';
import { describeError, type Logger } from '../../util/log.js';
import type { Rung } from './ladders.js';
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

/** Non-final answers are retried only once the tip has moved past where they were refused. */
function isHeld(r: DueRecord, tip: Tip | null): boolean {
  return r.holdHeight !== null && (tip === null || tip.height <= r.holdHeight);
}

/** Sends a claimed record's rung and stores what came of it. */
export async function sendRecord(ctx: Context, record: DueRecord): Promise<void> {
  const { store, clock, log } = ctx.options;
  const rung = ctx.ladders.get(record.id)?.rungs[0];
  if (!rung) return;
  const outcome = await broadcastRung(ctx.options.broadcaster, rung);
  const current = await store.get(record.id);
  if (!current || current.state !== State.Broadcasting) return;
  const t = afterBroadcast(ctx.options, current, outcome, nowSeconds(clock));
  if (t.to === State.Rejected) ctx.ladders.forget(record.id);
  logOutcome(log, rung, outcome);
  await store.transition([t]).catch((err) => log.log('error', 'store_failed', { error: describeError(err) }));
}

async function broadcastRung(broadcaster: Broadcaster, rung: Rung): Promise<BroadcastOutcome> {
  try {
    return await broadcaster.broadcast(rung);
  } catch (err) {
    return { kind: 'unreachable', reason: describeError(err) };
  }
}

function logOutcome(log: Logger, rung: Rung, outcome: BroadcastOutcome): void {
  log.log(outcome.kind === 'accepted' ? 'info' : 'warn', 'broadcast', {
    txid: rung.txs[0]!.txid,
    outcome: outcome.kind,
    ...('reason' in outcome ? { reason: outcome.reason } : {}),
  });
}

export function afterBroadcast(options: Settings, r: DueRecord, outcome: BroadcastOutcome, now: number): Transition {
  const from = [State.Broadcasting];
  switch (outcome.kind) {
    case 'accepted':
      return { id: r.id, from, to: State.Broadcast, wake: now + options.checkIntervalSeconds, broadcastAt: now, attempts: 0, holdHeight: null, confirmations: 0 };
    case 'non_final':
    // Until the scheduler climbs (SPEC §7), a fee refusal waits for a later tip, as non-final does.
    case 'fee_too_low':
    // Only a later rung can be superseded by an earlier one, and no later rung is sent yet.
    case 'superseded':
      return { id: r.id, from, to: State.Broadcasting, wake: now + options.checkIntervalSeconds, holdHeight: options.tip()?.height ?? 0 };
    case 'rejected':
      return { id: r.id, from, to: State.Rejected, wake: purgeAt(now, options.retentionSeconds), wipe: true, errorCode: outcome.code };
    case 'unreachable':
      return { id: r.id, from, to: State.Broadcasting, wake: now + backoff(options, r.attempts), attempts: r.attempts + 1 };
  }
}

/** Capped exponential backoff with jitter (50–100 %), forever: nothing is given up on. */
export function backoff(options: Settings, attempts: number): number {
  const ceiling = Math.min(options.retryMaxSeconds, options.retryMinSeconds * 2 ** Math.min(attempts, 30));
  return Math.max(1, Math.round(ceiling / 2 + options.randomInt(Math.floor(ceiling / 2) + 1)));
}
