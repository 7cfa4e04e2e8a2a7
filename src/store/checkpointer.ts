// Folds the WAL into the database and truncates it soon after a wipe (SPEC §8): until then the WAL
// still holds the pages written before the wipe, and with them the wiped blob's key.
import { describeError, type Logger } from '../util/log.js';

export interface CheckpointerOptions {
  /** Runs one TRUNCATE checkpoint; false when a reader kept it from finishing. */
  readonly run: () => Promise<boolean>;
  /** How long after the first wipe not yet folded in the checkpoint starts, at the least. */
  readonly delayMs: number;
  readonly log: Logger;
}

/** After a failure (a reader, a full disk) the next try waits at least this long. */
const RETRY_MS = 1000;
/** A checkpoint that took d ms is followed by the next one no sooner than SPACING × d ms, and no later than MAX_SPACING_MS. */
const SPACING = 4;
const MAX_SPACING_MS = 2000;

/**
 * Wipes that come close together share one checkpoint, and never two run at once. Under a steady
 * stream of wipes on a slow disk, the pause after each checkpoint grows with its duration, so that
 * checkpoints take at most about a fifth of the time while a wiped key still leaves within seconds.
 */
export class Checkpointer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private lastMs = 0;
  private closed = false;

  constructor(private readonly options: CheckpointerOptions) {}

  /** A wipe was committed. Later wipes do not push the timer back: a steady stream still gets its checkpoints. */
  wiped(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => void (this.running = this.fold()), this.nextDelay());
  }

  private nextDelay(): number {
    const spaced = Math.min(SPACING * this.lastMs, MAX_SPACING_MS);
    return Math.max(this.options.delayMs, spaced, this.failures === 0 ? 0 : RETRY_MS);
  }

  private async fold(): Promise<void> {
    this.timer = null;
    this.again = false;
    const started = performance.now();
    let done = false;
    try {
      done = await this.options.run();
    } catch (err) {
      // Logged once per run of failures: a full disk would otherwise write a line a second.
      if (this.failures === 0) this.options.log.log('warn', 'checkpoint_failed', { error: describeError(err) });
    }
    this.lastMs = performance.now() - started;
    this.failures = done ? 0 : this.failures + 1;
    this.running = null;
    if (!done || this.again) this.wiped();
  }

  /** No more checkpoints; resolves once the one running, if any, has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
