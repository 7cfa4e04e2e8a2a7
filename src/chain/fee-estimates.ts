// Esplora's GET /fee-estimates (SPEC §7): an object from confirmation target in blocks to sat/vB.
// Parsed defensively (an explorer may be hostile) and read at the configured target.

/** Targets in blocks → sat/vB, only the entries that make sense. */
export type FeeEstimates = ReadonlyMap<number, number>;

const MAX_TARGET = 10_000;
// Far above anything sane (sendrawtransaction refuses more than 10,000 sat/vB by default).
const MAX_RATE = 1_000_000;
const MAX_ENTRIES = 64;

/** null when the answer is not an object of estimates at all; unusable entries are skipped. */
export function parseFeeEstimates(body: string): FeeEstimates | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const estimates = new Map<number, number>();
  // mempool.space adds a "warning" text beside the targets: non-numeric keys are not estimates.
  for (const [key, value] of Object.entries(parsed).slice(0, MAX_ENTRIES)) {
    if (!/^[1-9]\d{0,4}$/.test(key) || Number(key) > MAX_TARGET) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_RATE) continue;
    estimates.set(Number(key), value);
  }
  return estimates.size > 0 ? estimates : null;
}

/** The estimate at the nearest listed target at or below `targetBlocks`, or null if none is listed. */
export function estimateAt(estimates: FeeEstimates, targetBlocks: number): number | null {
  let best: number | null = null;
  for (const target of estimates.keys()) {
    if (target <= targetBlocks && (best === null || target > best)) best = target;
  }
  return best === null ? null : estimates.get(best)!;
}
