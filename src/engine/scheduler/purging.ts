// Hourly housekeeping: deletes finished records whose retention ran out, then truncates the WAL so
// that wiped pages leave it.
import type { Settings } from './options.js';

const PURGE_EVERY_MS = 60 * 60_000;

export class Purging {
  private last = 0;

  constructor(private readonly options: Settings) {}

  async ifDue(now: number): Promise<void> {
    const { store, clock, log } = this.options;
    if (clock.now() - this.last < PURGE_EVERY_MS) return;
    this.last = clock.now();
    const purged = await store.purge(now);
    await store.checkpoint();
    if (purged) log.log('info', 'purged', { records: purged });
  }
}
