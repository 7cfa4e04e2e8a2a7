// Step of `windowed` records: those whose random moment came go to be opened.
import { State, type DueRecord } from '../../domain/record.js';
import type { Context } from './context.js';

export interface Released {
  /** To be opened now (not claimed yet). */
  readonly toOpen: DueRecord[];
  /** The query was full: more may be due at once. */
  readonly more: boolean;
}

export async function releaseDue(ctx: Context, now: number, limit: number): Promise<Released> {
  const due = await ctx.options.store.dueByWake(State.Windowed, now, limit);
  return { toOpen: ctx.claims.unclaimed(due), more: due.length === limit };
}
