// Step of `broadcast` records: each due one is looked up through the tracker (SPEC §5); it is
// confirmed at the configured depth, sent again if it vanished, and otherwise checked later.
import { State, type DueRecord } from '../../domain/record.js';
import { purgeAt } from '../../domain/retention.js';
import type { Transition } from '../../store/store.js';
import type { TxStatusAnswer } from '../../chain/esplora.js';
import type { Tracker } from '../tracker.js';
import { nowSeconds } from '../../util/clock.js';
import { describeError } from '../../util/log.js';
import type { Settings } from './options.js';
import type { Context } from './context.js';

/** Claims the broadcast records due for a check and starts checking them; answers how many. */
export async function trackDue(ctx: Context, now: number): Promise<number> {
  const { store, batchSize } = ctx.options;
  const due = ctx.claims.take(await store.dueByWake(State.Broadcast, now, batchSize));
  for (const r of due) void track(ctx, r).finally(() => ctx.claims.release(r.id));
  return due.length;
}

async function track(ctx: Context, r: DueRecord): Promise<void> {
  if (!r.txid) return;
  const { store, clock, log } = ctx.options;
  try {
    const answer = await askStatus(ctx.options.tracker, r.txid);
    const t = afterCheck(ctx.options, r, answer, nowSeconds(clock));
    if (t.to === State.Confirmed) ctx.ladders.forget(r.id);
    if (t.to === State.Confirmed || t.to === State.Broadcasting) {
      log.log('info', t.to === State.Confirmed ? 'confirmed' : 'rebroadcast', { txid: r.txid });
    }
    await store.transition([t]);
  } catch (err) {
    log.log('error', 'track_failed', { error: describeError(err) });
  }
}

async function askStatus(tracker: Tracker, txid: string): Promise<TxStatusAnswer> {
  try {
    return await tracker.status(txid);
  } catch (err) {
    return { kind: 'unreachable', reason: describeError(err) };
  }
}

export function afterCheck(options: Settings, r: DueRecord, answer: TxStatusAnswer, now: number): Transition {
  const from = [State.Broadcast];
  const later = now + options.checkIntervalSeconds;
  switch (answer.kind) {
    case 'confirmed': {
      const depth = depthOf(options, answer.blockHeight);
      if (depth >= options.confirmations) {
        return { id: r.id, from, to: State.Confirmed, wake: purgeAt(now, options.retentionSeconds), wipe: true, confirmations: depth };
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

function depthOf(options: Settings, blockHeight: number): number {
  const tip = options.tip();
  return tip ? Math.max(1, tip.height - blockHeight + 1) : 1;
}
