// How many requests to have in flight to one explorer over Tor, learned from their latencies (a
// gradient limiter, after Netflix's and TCP Vegas): the limit grows while answers come about as
// fast as the fast ones usually do, and shrinks in proportion when they slow down, because Tor,
// the machine or the explorer is saturated.

export interface LimitSettings {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  /** How many times the usual fast latency the recent median may reach before the limit shrinks (default 2). */
  readonly tolerance?: number;
}

/** The learned state after an answer: the limit, and the latencies it was judged on (ms, null until known). */
export interface LimitState {
  readonly limit: number;
  /** The median of the last round (a limit's worth of answers, at least 8). */
  readonly recentMs: number | null;
  /** The 10th percentile of the last 256 answers: how fast a fresh circuit answers when nothing queues. */
  readonly fastMs: number | null;
}

const WINDOW = 256;
const ENOUGH = 8;

export class AdaptiveLimit {
  private value: number;
  /** The last WINDOW answer times, oldest first. */
  private readonly times: number[] = [];

  constructor(private readonly settings: LimitSettings) {
    if (!(settings.min >= 1 && settings.min <= settings.initial && settings.initial <= settings.max)) throw new RangeError('need 1 <= min <= initial <= max');
    this.value = settings.initial;
  }

  get limit(): number {
    return Math.floor(this.value);
  }

  /** The median answer time of the last round, once there are enough answers to tell. */
  recentMs(): number | null {
    return this.recent(0.5);
  }

  /** The 90th percentile of the last round: nearly every answer comes sooner. */
  slowMs(): number | null {
    return this.recent(0.9);
  }

  private recent(q: number): number | null {
    const n = Math.max(ENOUGH, this.limit);
    return this.times.length < ENOUGH ? null : quantile(this.times.slice(-n), q);
  }

  fastMs(): number | null {
    return this.times.length < ENOUGH ? null : quantile(this.times, 0.1);
  }

  /**
   * One answer came after `ms` (a failure counts as its deadline). `saturated`: requests were
   * waiting for a slot, so the limit was what held them; an idle lane learns latency only.
   */
  sample(ms: number, saturated: boolean): LimitState {
    this.times.push(ms);
    if (this.times.length > WINDOW) this.times.shift();
    const recentMs = this.recentMs();
    const fastMs = this.fastMs();
    if (saturated && recentMs !== null && fastMs !== null) this.value = this.next(recentMs, fastMs);
    return { limit: this.limit, recentMs, fastMs };
  }

  /**
   * Per answer, a 1/limit share of one round's step, so that a round moves the limit to
   * limit × gradient + √limit: scaled down by how much slower than the tolerance answers come,
   * plus headroom to keep probing upwards.
   */
  private next(recentMs: number, fastMs: number): number {
    const { min, max, tolerance = 2 } = this.settings;
    const gradient = Math.max(0.5, Math.min(1, (tolerance * fastMs) / Math.max(recentMs, 1e-9)));
    const step = gradient - 1 + 1 / Math.sqrt(this.value);
    return Math.min(max, Math.max(min, this.value + step));
  }
}

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}
