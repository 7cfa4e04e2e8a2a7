// Opened records, in memory only (never on disk), kept for retries and rebroadcasts. A bare
// transaction is a ladder of one rung of one transaction (SPEC §7), so one path sends both.

import type { Ladder } from '../../domain/bundle.js';

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

export interface RungFields {
  readonly rung: number;
  readonly feeRate: number | null;
  readonly txids: readonly string[];
  readonly txid: string;
}

/** What the record says about rung `index` once it is being sent: SPEC §3's rung, feeRate, txids and txid. */
export function rungFields(ladder: Ladder, index: number): RungFields {
  const rung = ladder.rungs[index]!;
  const txids = rung.txs.map((t) => t.txid);
  return { rung: index, feeRate: rung.feeRate, txids, txid: txids[0]! };
}

/** The transaction that carries each rung's locktime (its first), once each: what the network may know of the bundle. */
export function firstTxids(ladder: Ladder): string[] {
  return [...new Set(ladder.rungs.map((r) => r.txs[0]!.txid))];
}
