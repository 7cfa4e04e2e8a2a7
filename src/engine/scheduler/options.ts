// What the scheduler is given: its collaborators (passed in by the composition, faked in tests)
// and its settings, each with the default it runs with when left out.
import { randomInt } from 'node:crypto';
import type { Tip } from '../../domain/locktime.js';
import type { Store } from '../../store/store.js';
import type { Opener } from '../opener.js';
import type { Broadcaster } from '../broadcaster.js';
import type { Tracker } from '../tracker.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';

export interface SchedulerOptions {
  /** Where records live; every step is a stored state first. */
  readonly store: Store;
  /** Decrypts and validates mature records. */
  readonly opener: Opener;
  /** Sends an opened transaction to the explorers. */
  readonly broadcaster: Broadcaster;
  /** Follows a sent transaction until it is deep enough. */
  readonly tracker: Tracker;
  readonly clock: Clock;
  /** The chain tip as last seen, or null before the first one. */
  readonly tip: () => Tip | null;
  readonly log: Logger;
  /** Depth at which a transaction is confirmed. */
  readonly confirmations: number;
  /** Seconds between status checks of a broadcast transaction (the chain poll interval). */
  readonly checkIntervalSeconds: number;
  /** How long a finished record stays answerable before it is purged. */
  readonly retentionSeconds: number;
  /** First and longest delay between attempts when no explorer could be reached. */
  readonly retryMinSeconds: number;
  readonly retryMaxSeconds: number;
  /** Most records taken from one due-query (default 256). */
  readonly batchSize?: number;
  /**
   * Most records being sent at once (default 1024): a bound on memory, not a pace. The pace is
   * the pacer's, per explorer; a record waiting on a slow explorer must not keep others from the fast ones.
   */
  readonly maxConcurrentBroadcasts?: number;
  /** Milliseconds between ticks when nothing pokes the scheduler (default 1000). */
  readonly tickIntervalMs?: number;
  /** Uniform integer in [0, maxExclusive): the window's random moment. */
  readonly randomInt?: (maxExclusive: number) => number;
  /** The fee rate (sat/vB) the market wants for --fee-target, or null when none is known (default: none). */
  readonly feeEstimate?: () => number | null;
  /** --fee-bump-blocks: blocks a sent rung may stay unconfirmed before the next one replaces it (default 3). */
  readonly feeBumpBlocks?: number;
}

/** The options with every default filled in. */
export type Settings = Required<SchedulerOptions>;

export function withDefaults(options: SchedulerOptions): Settings {
  return {
    batchSize: 256,
    maxConcurrentBroadcasts: 1024,
    tickIntervalMs: 1000,
    randomInt: (max) => (max <= 1 ? 0 : randomInt(max)),
    feeEstimate: () => null,
    feeBumpBlocks: 3,
    ...options,
  };
}
