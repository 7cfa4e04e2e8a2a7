// The record store: every write goes through one serial writer; submissions are group-committed
// (concurrent POSTs share one SQLite transaction and one fsync), and a caller hears back only
// after COMMIT returned. Reads use a second connection so they never see uncommitted rows.
import { join } from 'node:path';
import { Sqlite, type Param } from './sqlite.js';
import { migrate } from './migrations.js';
import { State, TERMINAL_STATES, type StoredRecord, type DueRecord, type SentRung } from '../domain/record.js';
import { LOCKTIME_THRESHOLD, type Tip } from '../domain/locktime.js';
import { ensurePrivateDir } from '../keys/keyring.js';

export const DB_FILE = 'relaystore.sqlite';

export interface NewRecord {
  readonly id: Buffer;
  readonly keyId: Buffer;
  readonly locktime: number;
  readonly window: number;
  readonly sealed: Buffer;
  readonly tokenHash: Buffer;
}

export type InsertOutcome =
  | { readonly kind: 'inserted'; readonly record: StoredRecord }
  | { readonly kind: 'existing'; readonly record: StoredRecord }
  | { readonly kind: 'full' };

export interface Transition {
  readonly id: string;
  /** The update applies only while the record is still in one of these states (races with cancel). */
  readonly from: readonly State[];
  readonly to: State;
  readonly wake: number;
  readonly wipe?: boolean;
  readonly txid?: string;
  readonly attempts?: number;
  readonly broadcastAt?: number | null;
  readonly confirmations?: number | null;
  readonly errorCode?: string | null;
  readonly holdHeight?: number | null;
  readonly rungs?: number | null;
  readonly rung?: number | null;
  readonly feeRate?: number | null;
  readonly txids?: readonly string[] | null;
  readonly sentHeight?: number | null;
  readonly sent?: readonly SentRung[];
}

type Encode = (t: Transition) => Param | undefined;
const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));

/** Each optional field of a transition: its column, and how it is stored (undefined leaves it as it is). */
const TRANSITION_COLUMNS: ReadonlyArray<readonly [string, Encode]> = [
  ['txid', (t) => (t.txid === undefined ? undefined : Buffer.from(t.txid, 'hex'))],
  ['attempts', (t) => t.attempts],
  ['broadcast_at', (t) => t.broadcastAt],
  ['confirmations', (t) => t.confirmations],
  ['error_code', (t) => t.errorCode],
  ['hold_height', (t) => t.holdHeight],
  ['rungs', (t) => t.rungs],
  ['rung', (t) => t.rung],
  ['fee_rate', (t) => t.feeRate],
  ['txids', (t) => (t.txids === undefined ? undefined : json(t.txids))],
  ['sent_height', (t) => t.sentHeight],
  ['sent', (t) => (t.sent === undefined ? undefined : json(t.sent))],
];

export interface StoreOptions {
  readonly maxPending: number;
  /** Most submissions committed in one transaction. */
  readonly maxBatch?: number;
}

interface Row {
  id: Buffer;
  key_id: Buffer;
  locktime: number;
  window: number;
  state: number;
  wake: number;
  sealed: Buffer | null;
  token_hash: Buffer;
  txid: Buffer | null;
  attempts: number;
  broadcast_at: number | null;
  confirmations: number | null;
  error_code: string | null;
  hold_height: number | null;
  rungs: number | null;
  rung: number | null;
  fee_rate: number | null;
  txids: string | null;
  sent_height: number | null;
  sent: string | null;
}

const LADDER_COLUMNS = 'rungs, rung, fee_rate, txids, sent_height, sent';
const COLUMNS = `id, key_id, locktime, window, state, wake, sealed, token_hash, txid, attempts, broadcast_at, confirmations, error_code, hold_height, ${LADDER_COLUMNS}`;
/** Everything but the blob and token hash: a tick that finds 1,000 due records reads no 560-byte blobs. */
const DUE_COLUMNS = `id, key_id, locktime, window, state, wake, txid, attempts, broadcast_at, confirmations, error_code, hold_height, ${LADDER_COLUMNS}`;
const INSERT_COLUMNS = '(id, key_id, locktime, window, state, wake, sealed, token_hash)';
const PENDING_STATES: readonly State[] = [State.Pending, State.Windowed];

/** The earliest matching records as one JSON array (see due()); `where` is always a range on the (state, wake) index. */
const dueQuery = (where: string) =>
  `SELECT json_group_array(json_array(lower(hex(id)), lower(hex(key_id)), locktime, window, state, wake, lower(hex(txid)),
     attempts, broadcast_at, confirmations, error_code, hold_height,
     rungs, rung, fee_rate, json(txids), sent_height, json(coalesce(sent, '[]')))) AS j
   FROM (SELECT ${DUE_COLUMNS} FROM records WHERE ${where} ORDER BY wake LIMIT ?)`;

/** The SQL of the store's scans, exactly as issued: tests EXPLAIN these to hold them to index range scans. */
export const statements = {
  /** Records in a state whose wake has come. Params: state, wake up to, limit. */
  dueUpTo: dueQuery('state = ? AND wake <= ?'),
  /** Records in a state whose wake lies in [from, before). Params: state, from, before, limit. */
  dueBetween: dueQuery('state = ? AND wake >= ? AND wake < ?'),
  /** Deletes finished records whose retention ran out. Params: state, now, limit. */
  purge: 'DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE state = ? AND wake <= ? LIMIT ?)',
} as const;

function toRecord(row: Row): StoredRecord {
  return {
    id: row.id.toString('hex'),
    keyId: row.key_id.toString('hex'),
    locktime: row.locktime,
    window: row.window,
    state: row.state as State,
    wake: row.wake,
    sealed: row.sealed,
    tokenHash: row.token_hash,
    txid: row.txid ? row.txid.toString('hex') : null,
    attempts: row.attempts,
    broadcastAt: row.broadcast_at,
    confirmations: row.confirmations,
    errorCode: row.error_code,
    holdHeight: row.hold_height,
    rungs: row.rungs,
    rung: row.rung,
    feeRate: row.fee_rate,
    txids: row.txids === null ? null : (JSON.parse(row.txids) as string[]),
    sentHeight: row.sent_height,
    sent: row.sent === null ? [] : (JSON.parse(row.sent) as SentRung[]),
  };
}

type DueTuple = [string, string, number, number, number, number, string, number, number | null, number | null, string | null, number | null,
  number | null, number | null, number | null, string[] | null, number | null, SentRung[]];

interface Queued {
  readonly record: NewRecord;
  readonly resolve: (outcome: InsertOutcome) => void;
  readonly reject: (err: unknown) => void;
}

export class Store {
  private chain: Promise<unknown> = Promise.resolve();
  private queue: Queued[] = [];
  private flushScheduled = false;
  private transitionQueue: Array<{ transitions: readonly Transition[]; resolve: (ids: Set<string>) => void; reject: (err: unknown) => void }> = [];
  private transitionScheduled = false;
  private pending = 0;
  private closed = false;
  private readonly maxBatch: number;

  private constructor(
    private readonly writer: Sqlite,
    private readonly reader: Sqlite,
    private readonly options: StoreOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 512;
  }

  static async open(dataDir: string, options: StoreOptions): Promise<Store> {
    await ensurePrivateDir(dataDir);
    const path = join(dataDir, DB_FILE);
    const writer = await Sqlite.open(path);
    // FULL: a 201 survives power loss; secure_delete: wiped blobs are overwritten, not just unlinked.
    await writer.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA busy_timeout = 5000;');
    await migrate(writer);
    const reader = await Sqlite.open(path, 'readonly');
    await reader.exec('PRAGMA busy_timeout = 5000;');
    const store = new Store(writer, reader, options);
    const row = await reader.get<{ n: number }>(`SELECT count(*) AS n FROM records WHERE state IN (${State.Pending}, ${State.Windowed})`);
    store.pending = row?.n ?? 0;
    return store;
  }

  get pendingCount(): number {
    return this.pending;
  }

  /** Runs fn after every earlier write: SQLite has one writer, and BEGIN…COMMIT must not interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  submit(record: NewRecord): Promise<InsertOutcome> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void this.serial(() => this.collectThenFlush());
      }
    });
  }

  /** Lets the event loop read the requests already waiting on their sockets first: bigger batches, fewer fsyncs. */
  private collectThenFlush(): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      void this.serial(() => this.collectThenFlush());
    }
    if (batch.length === 0) return;
    try {
      const outcomes = await this.insertBatch(batch.map((q) => q.record));
      batch.forEach((q, i) => q.resolve(outcomes[i]!));
    } catch (err) {
      for (const q of batch) q.reject(err);
    }
  }

  private async insertBatch(records: readonly NewRecord[]): Promise<InsertOutcome[]> {
    const outcomes: Array<InsertOutcome | undefined> = new Array(records.length);
    const fresh: number[] = [];
    const seen = new Map<string, number>();
    const room = this.options.maxPending - this.pending;
    for (let i = 0; i < records.length; i++) {
      const key = records[i]!.id.toString('hex');
      if (seen.has(key)) continue; // a duplicate within the batch gets the first one's answer
      seen.set(key, i);
      fresh.push(i);
    }
    let inserted = new Set<string>();
    if (fresh.length > 0 && room > 0) {
      // Only as many as there is room for; the rest are answered store_full (or, if they turn
      // out to exist already, as the safe retry they are).
      const take = fresh.slice(0, room);
      const params: Param[] = [];
      const rows: string[] = [];
      for (const i of take) {
        const r = records[i]!;
        params.push(r.id, r.keyId, r.locktime, r.window, State.Pending, r.locktime, r.sealed, r.tokenHash);
        rows.push('(?,?,?,?,?,?,?,?)');
      }
      // One statement in autocommit mode: atomic, committed (and fsynced) before it returns, and
      // a single round trip to SQLite's thread, which is what keeps group commit cheap.
      const returned = await this.writer.all<{ id: Buffer }>(
        `INSERT INTO records ${INSERT_COLUMNS} VALUES ${rows.join(',')} ON CONFLICT (id) DO NOTHING RETURNING id`,
        params,
      );
      inserted = new Set(returned.map((r) => r.id.toString('hex')));
      this.pending += inserted.size;
    }
    const existingIds = [...seen.keys()].filter((k) => !inserted.has(k));
    const existing = new Map<string, StoredRecord>();
    if (existingIds.length > 0) {
      const rows = await this.writer.all<Row>(
        `SELECT ${COLUMNS} FROM records WHERE id IN (${existingIds.map(() => '?').join(',')})`,
        existingIds.map((k) => Buffer.from(k, 'hex')),
      );
      for (const row of rows) existing.set(row.id.toString('hex'), toRecord(row));
    }
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const key = r.id.toString('hex');
      if (inserted.has(key) && seen.get(key) === i) {
        outcomes[i] = { kind: 'inserted', record: freshRecord(r) };
      } else if (inserted.has(key)) {
        outcomes[i] = { kind: 'existing', record: freshRecord(r) };
      } else {
        const found = existing.get(key);
        outcomes[i] = found ? { kind: 'existing', record: found } : { kind: 'full' };
      }
    }
    return outcomes as InsertOutcome[];
  }

  async get(id: string): Promise<StoredRecord | undefined> {
    const row = await this.reader.get<Row>(`SELECT ${COLUMNS} FROM records WHERE id = ?`, [Buffer.from(id, 'hex')]);
    return row ? toRecord(row) : undefined;
  }

  /** Pending records whose locktime is mature at `tip` (SPEC §4), as two index range scans. */
  async dueMature(tip: Tip | null, limit: number): Promise<DueRecord[]> {
    const height = tip?.height ?? 0;
    const records = await this.due(statements.dueUpTo, [State.Pending, Math.min(height, LOCKTIME_THRESHOLD - 1)], limit);
    if (tip !== null && records.length < limit && tip.medianTime > LOCKTIME_THRESHOLD) {
      records.push(...(await this.due(statements.dueBetween, [State.Pending, LOCKTIME_THRESHOLD, tip.medianTime], limit - records.length)));
    }
    return records;
  }

  /** Records in `state` whose wake time (seconds) has come. */
  async dueByWake(state: State, now: number, limit: number): Promise<DueRecord[]> {
    return this.due(statements.dueUpTo, [state, now], limit);
  }

  /**
   * The earliest `limit` records that `sql` (a dueQuery) finds.
   * SQLite hands them over as one JSON array: the sqlite3 binding costs ~8 µs per row object,
   * which would make a tick that finds 1,000 records slower than everything else it does.
   */
  private async due(sql: string, params: Param[], limit: number): Promise<DueRecord[]> {
    const row = await this.reader.get<{ j: string }>(sql, [...params, limit]);
    const rows = JSON.parse(row?.j ?? '[]') as DueTuple[];
    return rows.map(([id, keyId, locktime, window, state, wake, txid, attempts, broadcastAt, confirmations, errorCode, holdHeight, rungs, rung, feeRate, txids, sentHeight, sent]) => ({
      id,
      keyId,
      locktime,
      window,
      state: state as State,
      wake,
      txid: txid === '' ? null : txid,
      attempts,
      broadcastAt,
      confirmations,
      errorCode,
      holdHeight,
      rungs,
      rung,
      feeRate,
      txids,
      sentHeight,
      sent,
    }));
  }

  /** The sealed blobs of `ids` that still have one (a wiped or purged record has none). */
  async sealedBlobs(ids: readonly string[]): Promise<Map<string, Buffer>> {
    const blobs = new Map<string, Buffer>();
    for (let k = 0; k < ids.length; k += 500) {
      const chunk = ids.slice(k, k + 500);
      const rows = await this.reader.all<{ id: Buffer; sealed: Buffer }>(
        `SELECT id, sealed FROM records WHERE id IN (${chunk.map(() => '?').join(',')}) AND sealed IS NOT NULL`,
        chunk.map((id) => Buffer.from(id, 'hex')),
      );
      for (const row of rows) blobs.set(row.id.toString('hex'), row.sealed);
    }
    return blobs;
  }

  /** Records that were mid-flight when the process stopped: they resume from the sealed blob. */
  async inState(state: State, limit: number, afterWake = -1): Promise<StoredRecord[]> {
    const rows = await this.reader.all<Row>(`SELECT ${COLUMNS} FROM records WHERE state = ? AND wake > ? ORDER BY wake LIMIT ?`, [state, afterWake, limit]);
    return rows.map(toRecord);
  }

  /**
   * Applies transitions; concurrent callers share one SQLite transaction (group commit, as for
   * submissions). Resolves with the ids that actually changed state, after COMMIT.
   */
  transition(transitions: readonly Transition[]): Promise<Set<string>> {
    if (transitions.length === 0) return Promise.resolve(new Set());
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.transitionQueue.push({ transitions, resolve, reject });
      if (!this.transitionScheduled) {
        this.transitionScheduled = true;
        void this.serial(() => this.flushTransitions());
      }
    });
  }

  private async flushTransitions(): Promise<void> {
    this.transitionScheduled = false;
    const batch = this.transitionQueue.splice(0, this.transitionQueue.length);
    if (batch.length === 0) return;
    const changed = new Set<string>();
    let pendingDelta = 0;
    try {
      await this.writer.exec('BEGIN IMMEDIATE');
      try {
        for (const { transitions } of batch) {
          for (const t of transitions) {
            if (await this.applyTransition(t)) {
              changed.add(t.id);
              const wasPending = t.from.every((s) => PENDING_STATES.includes(s));
              if (wasPending && !PENDING_STATES.includes(t.to)) pendingDelta--;
            }
          }
        }
        await this.writer.exec('COMMIT');
      } catch (err) {
        await this.writer.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.pending += pendingDelta;
      for (const item of batch) item.resolve(new Set(item.transitions.filter((t) => changed.has(t.id)).map((t) => t.id)));
    } catch (err) {
      for (const item of batch) item.reject(err);
    }
  }

  private async applyTransition(t: Transition): Promise<boolean> {
    const sets = ['state = ?', 'wake = ?'];
    const params: Param[] = [t.to, t.wake];
    if (t.wipe) sets.push('sealed = NULL');
    for (const [column, encode] of TRANSITION_COLUMNS) {
      const value = encode(t);
      if (value !== undefined) (sets.push(`${column} = ?`), params.push(value));
    }
    params.push(Buffer.from(t.id, 'hex'), ...t.from);
    const { changes } = await this.writer.run(
      `UPDATE records SET ${sets.join(', ')} WHERE id = ? AND state IN (${t.from.map(() => '?').join(',')})`,
      params,
    );
    return changes > 0;
  }

  /** Deletes terminal records whose retention ran out; then truncates the WAL so wiped pages leave it. */
  purge(now: number, limit = 1000): Promise<number> {
    return this.serial(async () => {
      let total = 0;
      for (const state of TERMINAL_STATES) {
        const { changes } = await this.writer.run(statements.purge, [state, now, limit]);
        total += changes;
      }
      return total;
    });
  }

  /** Folds the WAL into the database and truncates it, so old copies of wiped blobs do not linger there. */
  checkpoint(): Promise<void> {
    return this.serial(() => this.writer.exec('PRAGMA wal_checkpoint(TRUNCATE)'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial(async () => undefined);
    await this.reader.close();
    await this.writer.close();
  }
}

function freshRecord(r: NewRecord): StoredRecord {
  return {
    id: r.id.toString('hex'),
    keyId: r.keyId.toString('hex'),
    locktime: r.locktime,
    window: r.window,
    state: State.Pending,
    wake: r.locktime,
    sealed: r.sealed,
    tokenHash: r.tokenHash,
    txid: null,
    attempts: 0,
    broadcastAt: null,
    confirmations: null,
    errorCode: null,
    holdHeight: null,
    rungs: null,
    rung: null,
    feeRate: null,
    txids: null,
    sentHeight: null,
    sent: [],
  };
}
