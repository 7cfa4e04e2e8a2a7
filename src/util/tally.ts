// Counts events that come by the thousand under attack (aborted uploads, refused connections) and
// writes them as one summary line per period, instead of one log line per connection.
import type { Clock } from './clock.js';
import type { Logger } from './log.js';

export class Tally {
  private counts = new Map<string, number>();
  /** What was counted already: one connection is one event, however many layers see it end. */
  private readonly counted = new WeakSet<object>();
  private since: number;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.since = clock.now();
  }

  /** Counts `event`; with `once` (e.g. a socket), only the first event about it counts. */
  count(event: string, once?: object): void {
    if (once) {
      if (this.counted.has(once)) return;
      this.counted.add(once);
    }
    this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
  }

  /** One `summary` line with every count since the last one (nothing when nothing happened). */
  flush(): void {
    const now = this.clock.now();
    if (this.counts.size > 0) {
      const seconds = Math.round((now - this.since) / 1000);
      this.log.log('info', 'summary', { seconds, ...Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b))) });
    }
    this.counts = new Map();
    this.since = now;
  }

  /** Flushes every `ms` until the returned function is called (which flushes once more). */
  every(ms: number): () => void {
    const timer = setInterval(() => this.flush(), ms);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.flush();
    };
  }
}
