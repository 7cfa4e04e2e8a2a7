// Opening: mature records are decrypted and validated in the opener, a batch at a time, in chunks
// handed on to be sent as soon as they are open; what opens becomes `broadcasting` (its ladder kept
// in memory), what does not is `invalid`, its blob wiped.
import { State, type DueRecord } from '../../domain/record.js';
import { purgeAt } from '../../domain/retention.js';
import type { Transition } from '../../store/store.js';
import type { OpenResult } from '../open-transaction.js';
import { describeError } from '../../util/log.js';
import { chooseRung } from '../../domain/climbing.js';
import { firstTxid } from './ladders.js';
import type { Context } from './context.js';

export interface OpenCounts {
  opened: number;
  invalid: number;
}

/** Several batches may be in the opener at once: the next is fetched while one is opening, so the
 * opener's threads never wait on us. */
export class Opening {
  private readonly batches = new Set<Promise<OpenCounts>>();
  /** Records in the opener: still due in the store, so due-queries must look past them. */
  records = 0;

  constructor(private readonly ctx: Context) {}

  /** Claims the records nobody works on and starts opening them. */
  start(records: readonly DueRecord[], now: number): void {
    const taken = this.ctx.claims.take(records);
    if (taken.length === 0) return;
    this.records += taken.length;
    const batch: Promise<OpenCounts> = openBatch(this.ctx, taken, now)
      .catch((err) => {
        this.ctx.options.log.log('error', 'open_failed', { error: describeError(err) });
        return { opened: 0, invalid: 0 };
      })
      .finally(() => {
        this.records -= taken.length;
        this.batches.delete(batch);
      });
    this.batches.add(batch);
  }

  /** Waits until at most `keep` batches are still opening; counts what the finished ones did. */
  async drain(keep: number): Promise<OpenCounts> {
    const counts = { opened: 0, invalid: 0 };
    while (this.batches.size > keep) {
      const done = await Promise.race(this.batches);
      counts.opened += done.opened;
      counts.invalid += done.invalid;
    }
    return counts;
  }

  async settled(): Promise<void> {
    await Promise.all(this.batches);
  }
}

/**
 * Records opened and handed on together: the first sends of a burst start once these are open
 * rather than the whole batch (on a loaded 2-core machine, 256 took 0.6 s).
 */
const OPEN_CHUNK = 16;

/** Opens claimed records, a chunk at a time; hands those that opened to the send queue and releases the rest. */
async function openBatch(ctx: Context, records: readonly DueRecord[], now: number): Promise<OpenCounts> {
  const chunks: DueRecord[][] = [];
  for (let i = 0; i < records.length; i += OPEN_CHUNK) chunks.push(records.slice(i, i + OPEN_CHUNK));
  const counts = await Promise.all(chunks.map((chunk) => openChunk(ctx, chunk, now)));
  return { opened: counts.reduce((n, c) => n + c.opened, 0), invalid: counts.reduce((n, c) => n + c.invalid, 0) };
}

async function openChunk(ctx: Context, records: readonly DueRecord[], now: number): Promise<OpenCounts> {
  const handedOn = new Set<string>();
  try {
    const blobs = await ctx.options.store.sealedBlobs(records.map((r) => r.id));
    const openable = records.filter((r) => blobs.has(r.id));
    const results = await ctx.options.opener.open(openable.map((r) => ({ id: r.id, keyId: r.keyId, locktime: r.locktime, sealed: blobs.get(r.id)! })));
    const counts = await settle(ctx, openable, results, now, handedOn);
    for (const r of openable) if (handedOn.has(r.id)) ctx.sender.push(r);
    return counts;
  } finally {
    for (const r of records) if (!handedOn.has(r.id)) ctx.claims.release(r.id);
  }
}

/** Stores what opening found; the ids to send are added to `handedOn`. */
async function settle(ctx: Context, records: readonly DueRecord[], results: readonly OpenResult[], now: number, handedOn: Set<string>): Promise<OpenCounts> {
  const transitions = records.flatMap((r, i) => afterOpen(ctx, r, results[i]!, now));
  const changed = await ctx.options.store.transition(transitions);
  records.forEach((r, i) => {
    const result = results[i]!;
    // A record cancelled while it was being opened did not change state: it is never sent.
    if (result.kind !== 'opened' || (r.state !== State.Broadcasting && !changed.has(r.id))) return;
    ctx.ladders.remember(r.id, result.ladder);
    handedOn.add(r.id);
  });
  const invalid = transitions.filter((t) => t.to === State.Invalid && changed.has(t.id)).length;
  return { opened: handedOn.size, invalid };
}

/** The stored consequence of opening one record (none for a record reopened after a restart). */
function afterOpen(ctx: Context, r: DueRecord, result: OpenResult, now: number): Transition[] {
  if (result.kind === 'invalid') {
    return [{ id: r.id, from: [r.state], to: State.Invalid, wake: purgeAt(now, ctx.options.retentionSeconds), wipe: true, errorCode: result.code }];
  }
  if (r.state === State.Broadcasting) return [];
  // SPEC §3: `txid` appears once opened: the first transaction of the rung the estimate picks now
  // (each send picks again until an explorer takes one, and sets it to the rung it tried).
  const { ladder } = result;
  const rungs = ladder.kind === 'bundle' ? { rungs: ladder.rungs.length } : {};
  const txid = firstTxid(ladder, chooseRung(ladder.rungs, ctx.options.feeEstimate()));
  return [{ id: r.id, from: [r.state], to: State.Broadcasting, wake: now, txid, attempts: 0, ...rungs }];
}
