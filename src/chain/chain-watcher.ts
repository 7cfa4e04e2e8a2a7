// Follows the chain tip and the fee estimates through every configured explorer, each over its own
// circuit; down, slow, lagging, lying or garbage-answering explorers only make it less current.
import type { Tip } from '../domain/locktime.js';
import type { Esplora, FeeEstimatesAnswer } from './esplora.js';
import { estimateAt } from './fee-estimates.js';
import { freshCredentials, type SocksCredentials } from '../net/transport.js';
import type { Logger } from '../util/log.js';
import type { Clock } from '../util/clock.js';

export interface ChainWatcherOptions {
  readonly explorers: readonly Esplora[];
  readonly pollIntervalMs: number;
  /** Polling credentials are rotated this often, so one circuit does not follow us for long. */
  readonly rotateCredentialsMs?: number;
  /** --fee-target: the confirmation target (blocks) whose estimate is read (default 6). */
  readonly feeTargetBlocks?: number;
  /** An explorer's estimate older than this no longer counts (default: 4 poll intervals). */
  readonly feeMaxAgeMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export type TipListener = (tip: Tip) => void;

/**
 * No single explorer decides: with two or more answering, the tip is the highest height that at
 * least two of them reach, and the fee estimate is the median.
 */
export class ChainWatcher {
  private tip: Tip | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: TipListener[] = [];
  private readonly credentials: Array<{ creds: SocksCredentials; since: number }>;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private lastState = new Map<string, string>();
  /** Per explorer: its last estimate at the target, and when it was read. */
  private readonly estimates = new Map<number, { rate: number; at: number }>();

  constructor(private readonly options: ChainWatcherOptions) {
    this.credentials = options.explorers.map(() => ({ creds: freshCredentials(), since: options.clock.now() }));
  }

  current(): Tip | null {
    return this.tip;
  }

  /**
   * The fee rate (sat/vB) the explorers expect for confirmation within the target, or null: the
   * median of the recent ones, the lower middle one of an even count. One explorer can then neither
   * make the submitter pay the dearest rung nor, with three or more, start the ladder low; with two,
   * a low liar only delays (the ladder climbs), a high one is outvoted.
   */
  feeEstimate(): number | null {
    const maxAge = this.options.feeMaxAgeMs ?? 4 * this.options.pollIntervalMs;
    const now = this.options.clock.now();
    const rates = [...this.estimates.values()].filter(({ at }) => now - at <= maxAge).map(({ rate }) => rate);
    return rates.length === 0 ? null : rates.sort((a, b) => a - b)[Math.floor((rates.length - 1) / 2)]!;
  }

  onTip(listener: TipListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    void this.pollNow();
  }

  /** Polls at once (and then on the interval); resolves when this round is over. */
  pollNow(): Promise<void> {
    if (this.polling) return this.polling;
    if (this.timer) clearTimeout(this.timer);
    this.polling = this.poll().finally(() => {
      this.polling = null;
      if (!this.stopped) this.timer = setTimeout(() => void this.pollNow(), this.options.pollIntervalMs);
    });
    return this.polling;
  }

  private credentialsFor(i: number): SocksCredentials {
    const slot = this.credentials[i]!;
    const rotate = this.options.rotateCredentialsMs ?? 10 * 60_000;
    if (this.options.clock.now() - slot.since >= rotate) {
      slot.creds = freshCredentials();
      slot.since = this.options.clock.now();
    }
    return slot.creds;
  }

  private async poll(): Promise<void> {
    const [answers] = await Promise.all([
      Promise.all(this.options.explorers.map((e, i) => e.tip(this.credentialsFor(i)))),
      Promise.all(this.options.explorers.map(async (e, i) => this.noteEstimates(i, await e.feeEstimates(this.credentialsFor(i))))),
    ]);
    answers.forEach((answer, i) => this.noteState(this.options.explorers[i]!, answer.kind === 'tip' ? 'ok' : answer.reason));
    const next = agreedTip(answers.flatMap((a) => (a.kind === 'tip' ? [a.tip] : [])));
    if (next === null || (this.tip && this.tip.hash === next.hash)) return;
    this.tip = next;
    this.options.log.log('info', 'tip', { height: next.height, medianTime: next.medianTime });
    for (const listener of this.listeners) listener(next);
  }

  /** Logs changes only: a down explorer should not flood the log every poll. */
  private noteState(explorer: Esplora, state: string): void {
    if (this.lastState.get(explorer.base) === state) return;
    this.options.log.log(state === 'ok' ? 'info' : 'warn', 'explorer_tip', { explorer: explorer.label, state });
    this.lastState.set(explorer.base, state);
  }

  private noteEstimates(i: number, answer: FeeEstimatesAnswer): void {
    if (answer.kind !== 'estimates') return;
    const rate = estimateAt(answer.estimates, this.options.feeTargetBlocks ?? 6);
    if (rate === null) this.estimates.delete(i);
    else this.estimates.set(i, { rate, at: this.options.clock.now() });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }
}

/**
 * The tip that no explorer claims alone: the highest height that at least two answers reach (one
 * lying or buggy explorer ahead cannot make immature transactions look mature; one lagging behind
 * holds nothing back once three answer). At that height, the block with the earliest median time,
 * so a time lock is never judged against a claimed future. A lone answer is taken as it is.
 */
export function agreedTip(tips: readonly Tip[]): Tip | null {
  if (tips.length === 0) return null;
  const heights = tips.map((t) => t.height).sort((a, b) => b - a);
  const height = heights[Math.min(1, heights.length - 1)]!;
  return tips.filter((t) => t.height === height).reduce((a, b) => (b.medianTime < a.medianTime ? b : a));
}
