// What every step of the scheduler shares: the options, who is working on which record, the
// opened ladders in memory, and the queue of records to send.
import type { Settings } from './options.js';
import type { Claims } from './claims.js';
import type { LadderCache } from './ladders.js';
import type { SendQueue } from './send-queue.js';

export interface Context {
  readonly options: Settings;
  readonly claims: Claims;
  readonly ladders: LadderCache;
  readonly sender: SendQueue;
}
