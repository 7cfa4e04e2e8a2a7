// The scheduler: on every tip and every second, finds what is due through the store's (state, wake)
// index and drives each record one step on; each state's step is its own module under scheduler/.
import { nowSeconds } from '../util/clock.js';
import { describeError } from '../util/log.js';
import { withDefaults, type SchedulerOptions, type Settings } from './scheduler/options.js';
import { Claims } from './scheduler/claims.js';
import { LadderCache } from './scheduler/ladders.js';
import { SendQueue } from './scheduler/send-queue.js';
import type { Context } from './scheduler/context.js';
import { matureDue } from './scheduler/maturing.js';
import { releaseDue } from './scheduler/releasing.js';
import { Opening } from './scheduler/opening.js';
import { retryDue, sendRecord } from './scheduler/sending.js';
import { trackDue } from './scheduler/tracking.js';
import { Purging } from './scheduler/purging.js';

export type { SchedulerOptions } from './scheduler/options.js';

export interface TickStats {
  opened: number;
  invalid: number;
  windowed: number;
  tracked: number;
  held: number;
  /** True when a batch was full and more may be due right away. */
  more: boolean;
}

const NOTHING: TickStats = { opened: 0, invalid: 0, windowed: 0, tracked: 0, held: 0, more: false };

/**
 * pending → (windowed) → opened → broadcasting → broadcast → confirmed. Every step is a stored state
 * first, so a restart resumes wherever it stopped.
 */
export class Scheduler {
  private readonly options: Settings;
  private readonly ctx: Context;
  private readonly opening: Opening;
  private readonly purging: Purging;
  private ticking: Promise<TickStats> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(options: SchedulerOptions) {
    this.options = withDefaults(options);
    const claims = new Claims();
    const shared = { options: this.options, claims, ladders: new LadderCache() };
    const sender = new SendQueue(this.options.maxConcurrentBroadcasts, claims, (record) => sendRecord(this.ctx, record));
    this.ctx = { ...shared, sender };
    this.opening = new Opening(this.ctx);
    this.purging = new Purging(this.options);
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.tickIntervalMs);
      });
    };
    loop();
  }

  /** Called when the chain tip moves: maturity may have changed for many records. */
  poke(): void {
    if (!this.stopped) void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await this.opening.settled();
  }

  /** Resolves when no record is being opened, sent or tracked (for benchmarks and tests). */
  idle(): Promise<void> {
    return this.ctx.claims.idle();
  }

  tick(): Promise<TickStats> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.runTicks().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async runTicks(): Promise<TickStats> {
    let stats: TickStats;
    do {
      this.again = false;
      stats = await this.tickOnce().catch((err) => {
        this.options.log.log('error', 'tick_failed', { error: describeError(err) });
        return { ...NOTHING };
      });
    } while ((this.again || stats.more) && !this.stopped);
    return stats;
  }

  private async tickOnce(): Promise<TickStats> {
    const now = nowSeconds(this.options.clock);
    const tip = this.options.tip();
    // Records being opened are still due; ask for enough rows to see past them.
    const limit = this.options.batchSize + this.opening.records;
    const matured = await matureDue(this.ctx, tip, now, limit);
    const released = await releaseDue(this.ctx, now, limit);
    const retried = await retryDue(this.ctx, tip, now);
    const more = matured.more || released.more;
    this.opening.start([...matured.toOpen, ...released.toOpen, ...retried.toOpen], now);
    // With more due, keep at most two batches in the opener; otherwise finish before the tick ends.
    const opened = await this.opening.drain(more ? 1 : 0);
    const tracked = await trackDue(this.ctx, now);
    await this.purging.ifDue(now);
    const stats = { ...opened, windowed: matured.windowed, held: retried.held, tracked, more };
    // What this tick decided and at which tip: the fact tests wait on instead of sleeping.
    this.options.log.log('debug', 'tick', { height: tip?.height ?? null, ...stats });
    // After the tick: a service answers and judges its first tip before the opener warms up.
    if (this.options.store.pendingCount > 0) this.options.opener.prepare();
    return stats;
  }
}
