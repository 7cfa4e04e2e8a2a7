// Opened records, in memory only (never on disk), kept for retries and rebroadcasts. A bare
// transaction is a ladder of one rung of one transaction (SPEC §7), so one path sends both.

import type { Ladder } from '../../domain/bundle.js';
import type { SentRung } from '../../domain/record.js';

// One shape for opener, scheduler and broadcaster: the opener's Ladder (SPEC §7 rungs, fee rates, wtxids).
export type { Ladder, Rung, LadderTx } from '../../domain/bundle.js';

const CACHE_LIMIT = 20_000;

/** Opened ladders by record id; the oldest is forgotten first (a forgotten one is opened again). */
export class LadderCache {
  private readonly ladders = new Map<string, Ladder>();

  get(id: string): Ladder | undefined {
    return this.ladders.get(id);
  }

  has(id: string): boolean {
    return this.ladders.has(id);
  }

  remember(id: string, ladder: Ladder): void {
    if (this.ladders.size >= CACHE_LIMIT) {
      const oldest = this.ladders.keys().next().value;
      if (oldest !== undefined) this.ladders.delete(oldest);
    }
    this.ladders.set(id, ladder);
  }

  forget(id: string): void {
    this.ladders.delete(id);
  }
}

/** The scheduler's place on the ladder as stored: the rung being sent or next, its fee rate and transactions. */
export interface Cursor {
  readonly rung: number;
  readonly feeRate: number | null;
  readonly txids: readonly string[];
}

export function cursorAt(ladder: Ladder, index: number): Cursor {
  const rung = ladder.rungs[index]!;
  return { rung: index, feeRate: rung.feeRate, txids: rung.txs.map((t) => t.txid) };
}

/** The first transaction of rung `index`: the record's txid while it is the one being tried or last sent (SPEC §3). */
export function firstTxid(ladder: Ladder, index: number): string {
  return ladder.rungs[index]!.txs[0]!.txid;
}

/** Rung `index` as `sent` keeps it: followed by its last transaction, the child that pays (SentRung). */
export function sentEntry(ladder: Ladder, index: number): SentRung {
  const { feeRate, txids } = cursorAt(ladder, index);
  return { rung: index, txid: txids[txids.length - 1]!, feeRate, txids };
}

/** Enough for a ladder of 16 one-parent-one-child rungs twice over; each is one look-up per explorer. */
const MAX_OWN_CHECKED = 64;

/**
 * The bundle's own transactions, in the order to ask whether the network knows one (SPEC §7: inputs
 * missing or spent are a rejection only if none is known): every transaction of every rung, those
 * of rungs sent before first (the last sent first), each rung's child before its parents; once
 * each, without rung `index`'s child (the broadcaster asks about that one itself), at most 64.
 */
export function ownTxids(ladder: Ladder, sent: readonly SentRung[], index: number): string[] {
  const sentFirst = [...sent].reverse().map((s) => s.rung).filter((i) => i < ladder.rungs.length);
  const txids = [...sentFirst, ...ladder.rungs.keys()].flatMap((i) => ladder.rungs[i]!.txs.map((t) => t.txid).reverse());
  const child = sentEntry(ladder, index).txid;
  return [...new Set(txids)].filter((txid) => txid !== child).slice(0, MAX_OWN_CHECKED);
}
