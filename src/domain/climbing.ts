// Choosing and climbing a fee ladder (SPEC §7): which rung goes out first, and when the next one
// replaces it. Pure rules; the scheduler applies them.

/** The cheapest rung paying at least the estimate; if none does, the dearest; without an estimate, the first. */
export function chooseRung(rungs: readonly { readonly feeRate: number | null }[], estimate: number | null): number {
  if (estimate === null) return 0;
  const enough = rungs.findIndex((r) => r.feeRate !== null && r.feeRate >= estimate);
  return enough >= 0 ? enough : rungs.length - 1;
}

/** The rung after `rung`, or null at the top of a ladder of `rungs` (a bare transaction has one). */
export function nextRung(rung: number, rungs: number | null): number | null {
  return rung + 1 < (rungs ?? 1) ? rung + 1 : null;
}

/** A rung accepted at `sentHeight` and still unconfirmed at `tipHeight` is due for replacement after `bumpBlocks` blocks. */
export function bumpDue(sentHeight: number | null, tipHeight: number | null, bumpBlocks: number): boolean {
  return sentHeight !== null && tipHeight !== null && tipHeight - sentHeight >= bumpBlocks;
}
