// Folds the WAL into the database and truncates it soon after a wipe (SPEC §8): until then the WAL
// still holds the pages written before the wipe, and with them the wiped blob's key.
import { describeError, type Logger } from '../util/log.js';

export interface CheckpointerOptions {
  /** Runs one TRUNCATE checkpoint in the writer's turn; false when a reader kept it from finishing. */
  readonly run: () => Promise<boolean>;
  /** How long after the first wipe not yet folded in the checkpoint starts. */
  readonly delayMs: number;
  readonly log: Logger;
}

/** After a failure (a reader, a full disk) the next try waits at least this long. */
const RETRY_MS = 1000;

/** Wipes that come close together share one checkpoint; the store runs it in the writer's turn, so never two at once. */
export class Checkpointer {
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: CheckpointerOptions) {}

  /** A wipe was committed. Later wipes do not push the timer back: a steady stream of them still gets a checkpoint every `delayMs`. */
  wiped(): void {
    if (this.timer || this.closed) return;
    const delay = this.failures === 0 ? this.options.delayMs : Math.max(this.options.delayMs, RETRY_MS);
    this.timer = setTimeout(() => void this.fold(), delay);
  }

  private async fold(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    let done = false;
    try {
      done = await this.options.run();
    } catch (err) {
      // Logged once per run of failures: a full disk would otherwise write a line a second.
      if (this.failures === 0) this.options.log.log('warn', 'checkpoint_failed', { error: describeError(err) });
    }
    this.failures = done ? 0 : this.failures + 1;
    if (!done) this.wiped();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
