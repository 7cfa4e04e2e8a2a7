// Step of `pending` records: those whose locktime matured (SPEC §4) either get their random moment
// in the window (→ windowed) or go to be opened now.
import { isMature, type Tip } from '../../domain/locktime.js';
import { State, type DueRecord } from '../../domain/record.js';
import type { Transition } from '../../store/store.js';
import type { Context } from './context.js';

export interface Matured {
  /** Mature records without a window: to be opened now (not claimed yet). */
  readonly toOpen: DueRecord[];
  /** How many entered their window. */
  readonly windowed: number;
  /** The query was full: more may be due at once. */
  readonly more: boolean;
}

export async function matureDue(ctx: Context, tip: Tip | null, now: number, limit: number): Promise<Matured> {
  const { store, randomInt } = ctx.options;
  const due = await store.dueMature(tip, limit);
  const mature = ctx.claims.unclaimed(due).filter((r) => isMature(r.locktime, tip));
  const toWindow = mature.filter((r) => r.window > 0).map((r) => enterWindow(r, now + randomInt(r.window + 1)));
  const windowed = (await store.transition(toWindow)).size;
  return { toOpen: mature.filter((r) => r.window === 0), windowed, more: due.length === limit };
}

function enterWindow(r: DueRecord, wake: number): Transition {
  return { id: r.id, from: [State.Pending], to: State.Windowed, wake };
}
