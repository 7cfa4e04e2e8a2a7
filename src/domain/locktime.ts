// Locktime semantics exactly as Bitcoin Core's mempool applies them (IsFinalTx with the next block).
export const LOCKTIME_THRESHOLD = 500_000_000;
export const MAX_LOCKTIME = 0xffff_ffff;

export type LocktimeType = 'height' | 'time';

export interface Tip {
  readonly height: number;
  readonly hash: string;
  readonly medianTime: number;
}

export function locktimeType(locktime: number): LocktimeType {
  return locktime < LOCKTIME_THRESHOLD ? 'height' : 'time';
}

export function isValidLocktime(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_LOCKTIME;
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
