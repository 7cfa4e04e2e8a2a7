// The pacer: every request on a fresh circuit waits in its explorer's lane, where a learned limit
// (adaptive-limit.ts) says how many are in flight, and each attempt gets a deadline from the
// lane's recent latencies. Sends go before checks and checks before tracking, across lanes too,
// since all lanes share one tor. Lanes are otherwise independent, so a slow explorer holds back
// only its own requests.
import { AdaptiveLimit, type LimitState } from './adaptive-limit.js';
import type { Logger } from '../util/log.js';

/** Broadcasts first, then the check that the network knows them, then the tracking of older ones. */
export type Priority = 'send' | 'check' | 'track';
const PRIORITIES: readonly Priority[] = ['send', 'check', 'track'];

export interface PacerOptions {
  readonly log: Logger;
  /** Milliseconds, for latencies (default performance.now). */
  readonly now?: () => number;
  /** Requests in flight per explorer: where the limit starts, and its bounds (default 16, PACER_MIN, PACER_MAX). */
  readonly initial?: number;
  readonly min?: number;
  readonly max?: number;
}

/** Where a request waits: its explorer's lane, its priority there, and the configured timeout (no attempt gets longer). */
export interface Slot {
  readonly lane: string;
  readonly priority: Priority;
  readonly timeoutMs: number;
}

/**
 * An attempt may take this many times the recent 90th percentile, and never less than the floor:
 * one that takes longer is a rendezvous that will not complete. Shorter deadlines cut off answers
 * that were only slow, and the retries made a slow spell worse (measured on the private network).
 */
const DEADLINE_FACTOR = 3;
/**
 * Most requests in flight to one explorer, whatever the limit learns: the service keeps this many
 * file descriptors per explorer (src/http/descriptors.ts). Measured, no lane went past 40.
 */
export const PACER_MAX = 64;
/**
 * Fewest in flight per explorer, however slow answers get: a loaded machine slows them as much as a
 * congested tor does, and below this backing off only loses throughput (at a floor of 2, a burst of
 * 400 on a loaded machine ran with about 13 requests in flight in all while a plain client did well
 * at 32). tor itself queues what is past its 32 pending circuits.
 */
export const PACER_MIN = 8;
const DEADLINE_FLOOR_MS = 10_000;
/** A lane with sends waiting keeps other lanes' checks back only while it answers at least this often. */
const PROGRESS_MS = 10_000;

/** An attempt's deadline from the recent 90th percentile answer time (null: none known yet). */
export function attemptDeadline(slowMs: number | null, timeoutMs: number): number {
  if (slowMs === null) return timeoutMs;
  return Math.min(timeoutMs, Math.max(DEADLINE_FLOOR_MS, Math.round(DEADLINE_FACTOR * slowMs)));
}

interface Job {
  start(): void;
}

class Lane {
  readonly waiting = new Map<Priority, Job[]>(PRIORITIES.map((p) => [p, []]));
  running = 0;
  /** Of those running, how many are sends. */
  sending = 0;
  logged: number;
  lastAnswer = -Infinity;

  constructor(readonly name: string, readonly limit: AdaptiveLimit) {
    this.logged = limit.limit;
  }

  get queued(): number {
    let n = 0;
    for (const jobs of this.waiting.values()) n += jobs.length;
    return n;
  }

  /** The first job waiting, sends first; only sends when `sendsOnly`. */
  next(sendsOnly: boolean): { job: Job; priority: Priority } | undefined {
    for (const priority of sendsOnly ? PRIORITIES.slice(0, 1) : PRIORITIES) {
      const job = this.waiting.get(priority)!.shift();
      if (job) return { job, priority };
    }
    return undefined;
  }

  /** Answers keep coming: a lane stuck on a silent explorer keeps no other lane's checks back. */
  progressing(now: number): boolean {
    return now - this.lastAnswer < PROGRESS_MS;
  }
}

export class Pacer {
  private readonly lanes = new Map<string, Lane>();
  private readonly now: () => number;

  constructor(private readonly options: PacerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Runs `attempt` once its lane has room, with its deadline; `ok` says whether the answer
   * counts as one (a failure teaches the limit as much as an answer at the deadline would).
   */
  run<T>(slot: Slot, attempt: (timeoutMs: number) => Promise<T>, ok: (answer: T) => boolean): Promise<T> {
    const l = this.lane(slot.lane);
    return new Promise<T>((resolve, reject) => {
      l.waiting.get(slot.priority)!.push({
        start: () => {
          if (slot.priority === 'send') l.sending++;
          const deadline = this.deadline(l, slot.timeoutMs);
          const started = this.now();
          attempt(deadline).then(
            (answer) => {
              const elapsed = this.now() - started;
              this.done(l, slot.priority, ok(answer) ? elapsed : Math.max(deadline, elapsed));
              resolve(answer);
            },
            (err: unknown) => {
              this.done(l, slot.priority, deadline);
              reject(err);
            },
          );
        },
      });
      this.pump();
    });
  }

  /** The limit of each lane that has been used (for logs and benchmarks). */
  limits(): Record<string, number> {
    return Object.fromEntries([...this.lanes].map(([name, l]) => [name, l.limit.limit]));
  }

  private lane(name: string): Lane {
    let l = this.lanes.get(name);
    if (!l) {
      const { initial = 16, min = PACER_MIN, max = PACER_MAX } = this.options;
      l = new Lane(name, new AdaptiveLimit({ initial, min, max }));
      this.lanes.set(name, l);
    }
    return l;
  }

  private deadline(l: Lane, timeoutMs: number): number {
    return attemptDeadline(l.limit.slowMs(), timeoutMs);
  }

  private pump(): void {
    const sendsOnly = this.sendsFirst();
    for (const l of this.lanes.values()) {
      while (l.running < l.limit.limit) {
        const next = l.next(sendsOnly);
        if (!next) break;
        l.running++;
        next.job.start();
      }
    }
  }

  /**
   * While sends wait in any lane, or sends take half of all the room there is, checks and tracking
   * wait: all lanes share one tor, and the last sends of a burst are what it is timed by. Lanes
   * that have not answered for a while count for nothing here; with none left, nothing is sending
   * (a check after a restart, before any send, must not wait for sends that never come).
   */
  private sendsFirst(): boolean {
    const now = this.now();
    let sending = 0;
    let room = 0;
    for (const l of this.lanes.values()) {
      if (!l.progressing(now)) continue;
      if (l.waiting.get('send')!.length > 0) return true;
      sending += l.sending;
      room += l.limit.limit;
    }
    return room > 0 && sending >= room / 2;
  }

  private done(l: Lane, priority: Priority, ms: number): void {
    l.running--;
    if (priority === 'send') l.sending--;
    l.lastAnswer = this.now();
    const state = l.limit.sample(ms, l.queued > 0);
    this.noteLimit(l, state);
    this.pump();
  }

  /** Logs a limit that moved by a quarter since last said: which explorer, never which transaction. */
  private noteLimit(l: Lane, { limit, recentMs, fastMs }: LimitState): void {
    if (Math.abs(limit - l.logged) < Math.max(2, l.logged / 4)) return;
    const slower = limit < l.logged;
    this.options.log.log(slower ? 'warn' : 'info', 'tor_concurrency', {
      explorer: l.name,
      limit,
      was: l.logged,
      reason: slower ? 'answers slowed down: backing off' : 'answers keep pace: more at once',
      recentMs: Math.round(recentMs ?? 0),
      fastMs: Math.round(fastMs ?? 0),
    });
    l.logged = limit;
  }
}
