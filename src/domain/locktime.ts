// Locktime semantics exactly as Bitcoin Core's mempool applies them (IsFinalTx with the next block).
import type { Tip } from '../wire/answers.js';
import type { LocktimeType } from '../wire/vocabulary.js';

// The wire contract declares both; re-exported because every room that judges maturity uses them.
export type { LocktimeType, Tip };

export const LOCKTIME_THRESHOLD = 500_000_000;

export function locktimeType(locktime: number): LocktimeType {
  return locktime < LOCKTIME_THRESHOLD ? 'height' : 'time';
}

/**
 * Core accepts a transaction into the mempool when nLockTime < (tip height + 1) for heights,
 * or nLockTime < median time past of the tip for times. Locktime 0 is always final.
 */
export function isMature(locktime: number, tip: Tip | null): boolean {
  if (locktime === 0) return true;
  if (tip === null) return false;
  if (locktime < LOCKTIME_THRESHOLD) return tip.height >= locktime;
  return tip.medianTime > locktime;
}
