// Follows the chain tip and the fee estimates through every configured explorer, each over its own
// circuit, and keeps the best answer. Down, slow, lagging or garbage-answering explorers only make
// it less current.
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
   * The fee rate (sat/vB) the explorers expect for confirmation within the target, or null.
   * The highest recent one: the goal is confirmation, and the submitter's own ladder caps the cost.
   */
  feeEstimate(): number | null {
    const maxAge = this.options.feeMaxAgeMs ?? 4 * this.options.pollIntervalMs;
    const now = this.options.clock.now();
    let best: number | null = null;
    for (const { rate, at } of this.estimates.values()) {
      if (now - at <= maxAge && (best === null || rate > best)) best = rate;
    }
    return best;
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
    let best: Tip | null = null;
    answers.forEach((answer, i) => {
      const explorer = this.options.explorers[i]!;
      const state = answer.kind === 'tip' ? 'ok' : answer.reason;
      if (this.lastState.get(explorer.base) !== state) {
        // Log changes only: a down explorer should not flood the log every poll.
        this.options.log.log(answer.kind === 'tip' ? 'info' : 'warn', 'explorer_tip', { explorer: explorer.label, state });
        this.lastState.set(explorer.base, state);
      }
      if (answer.kind === 'tip' && (best === null || answer.tip.height > best.height)) best = answer.tip;
    });
    if (best === null) return;
    const next: Tip = best;
    if (this.tip && this.tip.hash === next.hash) return;
    this.tip = next;
    this.options.log.log('info', 'tip', { height: next.height, medianTime: next.medianTime });
    for (const listener of this.listeners) listener(next);
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
