// The record store: one serial writer, group commit (concurrent POSTs share one transaction and
// one fsync), a caller answered only after COMMIT; reads on a second connection, never uncommitted.
import { join } from 'node:path';
import { Sqlite, type Param } from './sqlite.js';
import { migrate } from './migrations.js';
import { State, TERMINAL_STATES, type StoredRecord, type DueRecord, type SentRung } from '../domain/record.js';
import { LOCKTIME_THRESHOLD, type Tip } from '../domain/locktime.js';
import { ensurePrivateDir } from '../keys/keyring.js';
import { BatchQueue } from '../util/batch-queue.js';
import { describeError, silentLogger, type Logger } from '../util/log.js';
import { atRest, encryptLegacyBlobs, KeySlots, keySql, putKeys, vacuumIfOwed } from './at-rest.js';
import { Checkpointer } from './checkpointer.js';
import { groupedUpdates, rounds, setColumns } from './transition-sql.js';

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
  | { readonly kind: 'full' }
  /** SQLite found the disk full: nothing was stored, and a later try may succeed. */
  | { readonly kind: 'disk_full' };

/** SQLITE_FULL: the disk (or the page limit) is full. Expected, and over once space returns. */
export function isDiskFull(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

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

export interface StoreOptions {
  readonly maxPending: number;
  /** The quota of sealed bytes held by records that are not final (SPEC §8); none if left out. */
  readonly maxStoreBytes?: number;
  /** Most submissions committed in one transaction. */
  readonly maxBatch?: number;
  /** How soon after a wipe the WAL is folded in and truncated (default 250 ms). */
  readonly wipeCheckpointDelayMs?: number;
  /** SQLite's max_page_count: a disk that fills at that size (for tests of a full disk). */
  readonly maxPageCount?: number;
  readonly log?: Logger;
}

const LADDER_COLUMNS = 'rungs, rung, fee_rate, txids, sent_height, sent';
/** The columns a due-query reads: everything but the blob and token hash (a tick that finds 1,000 due records reads no 560-byte blobs). */
const DUE_COLUMNS = `id, key_id, locktime, window, state, wake, txid, attempts, broadcast_at, confirmations, error_code, hold_height, ${LADDER_COLUMNS}`;
/**
 * Those columns as one JSON array, the shape every read hands over: the sqlite3 binding costs ~8 µs
 * per row object, which would make a tick that finds 1,000 records slower than everything else it does.
 */
const FIELDS = `json_array(lower(hex(id)), lower(hex(key_id)), locktime, window, state, wake, lower(hex(txid)),
  attempts, broadcast_at, confirmations, error_code, hold_height,
  rungs, rung, fee_rate, json(txids), sent_height, json(coalesce(sent, '[]')))`;
type Fields = [string, string, number, number, number, number, string, number, number | null, number | null, string | null, number | null,
  number | null, number | null, number | null, string[] | null, number | null, SentRung[]];
/** A whole record as read: FIELDS, then the two blobs and the key of the first (at-rest.ts). */
const RECORD = `${FIELDS} AS f, sealed, token_hash, ${keySql.keyColumn}`;
interface RecordRow {
  f: string;
  sealed: Buffer | null;
  token_hash: Buffer;
  blob_key: Buffer | null;
}
const INSERT_COLUMNS = '(id, key_id, locktime, window, state, wake, sealed, token_hash, key_slot)';
const PENDING_STATES: readonly State[] = [State.Pending, State.Windowed];

/** The earliest matching records, oldest wake first, as one JSON array; `where` is always a range on the (state, wake) index. */
const dueQuery = (where: string) => `SELECT json_group_array(${FIELDS}) AS j FROM (SELECT ${DUE_COLUMNS} FROM records WHERE ${where} ORDER BY wake LIMIT ?)`;

/** The SQL of the store's scans, exactly as issued: tests EXPLAIN these to hold them to index range scans. */
export const statements = {
  /** Records in a state whose wake has come. Params: state, wake up to, limit. */
  dueUpTo: dueQuery('state = ? AND wake <= ?'),
  /** Records in a state whose wake lies in [from, before). Params: state, from, before, limit. */
  dueBetween: dueQuery('state = ? AND wake >= ? AND wake < ?'),
  /** Deletes finished records whose retention ran out. Params: state, now, limit. */
  purge: 'DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE state = ? AND wake <= ? LIMIT ?)',
} as const;

/** The one row mapper: a FIELDS array to a record (without its blobs). */
function toRecord([
  id, keyId, locktime, window, state, wake, txid, attempts, broadcastAt, confirmations, errorCode, holdHeight,
  rungs, rung, feeRate, txids, sentHeight, sent,
]: Fields): DueRecord {
  return {
    id, keyId, locktime, window, state: state as State, wake, txid: txid === '' ? null : txid, attempts, broadcastAt, confirmations, errorCode, holdHeight,
    rungs, rung, feeRate, txids, sentHeight, sent,
  };
}

/** A submission as its row reads once inserted: the INSERT takes state and wake from here; the rest start empty. */
function newRecord(r: NewRecord): StoredRecord {
  const fields: Fields = [r.id.toString('hex'), r.keyId.toString('hex'), r.locktime, r.window, State.Pending, r.locktime, '', 0, null, null, null, null, null, null, null, null, null, []];
  return withBlobs(toRecord(fields), r.sealed, r.tokenHash);
}

function toStoredRecord(row: RecordRow): StoredRecord {
  return withBlobs(toRecord(JSON.parse(row.f) as Fields), opened(row.sealed, row.blob_key), row.token_hash);
}

/** The sealed blob as submitted, from its stored form (a legacy row without a key is stored as submitted). */
function opened(stored: Buffer | null, key: Buffer | null): Buffer | null {
  return stored && key ? atRest(key, stored) : stored;
}

/** Object.assign, not a spread: V8 spends ~3 µs copying a record into a spread. */
function withBlobs(record: DueRecord, sealed: Buffer | null, tokenHash: Buffer): StoredRecord {
  return Object.assign(record, { sealed, tokenHash });
}

const BUSY_MS = 5000;
const CHECKPOINT_BUSY_MS = 100;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');

export class Store {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly submissions: BatchQueue<NewRecord, InsertOutcome>;
  private readonly transitions: BatchQueue<readonly Transition[], Set<string>>;
  private pending = 0;
  private bytes = 0;
  /** Sealed bytes of submissions queued or being committed: counted against the quota before they land. */
  private queuedBytes = 0;
  private tip: Tip | null = null;
  private closed = false;
  private readonly checkpointer: Checkpointer;

  private constructor(
    private readonly writer: Sqlite,
    private readonly reader: Sqlite,
    /** Runs the long part of a checkpoint alongside the writer's commits (truncateWal). */
    private readonly folder: Sqlite,
    private readonly slots: KeySlots,
    private readonly options: StoreOptions,
  ) {
    const schedule = (job: () => Promise<void>) => this.serial(job);
    const log = options.log ?? silentLogger;
    this.checkpointer = new Checkpointer({ run: () => this.truncateWal(), delayMs: options.wipeCheckpointDelayMs ?? 250, log });
    this.submissions = new BatchQueue({ run: (records) => this.insertBatch(records), maxBatch: options.maxBatch ?? 512, schedule });
    this.transitions = new BatchQueue({ run: (batch) => this.applyTransitions(batch), schedule });
  }

  static async open(dataDir: string, options: StoreOptions): Promise<Store> {
    await ensurePrivateDir(dataDir);
    const path = join(dataDir, DB_FILE);
    const writer = await Sqlite.open(path);
    // FULL: a 201 survives power loss; secure_delete: wiped blobs are overwritten, not just unlinked.
    await writer.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA busy_timeout = ${BUSY_MS};`);
    await migrate(writer);
    const slots = await KeySlots.load(writer);
    await encryptLegacyBlobs(writer, slots);
    // A disk too full to rewrite the file: serve meanwhile, and owe the VACUUM to the next open.
    await vacuumIfOwed(writer).catch((err: unknown) => {
      if (!isDiskFull(err)) throw err;
      options.log?.log('warn', 'vacuum_deferred', { error: describeError(err) });
    });
    if (options.maxPageCount !== undefined) await writer.exec(`PRAGMA max_page_count = ${Math.floor(options.maxPageCount)}`);
    const reader = await Sqlite.open(path, 'readonly');
    await reader.exec(`PRAGMA busy_timeout = ${BUSY_MS};`);
    const folder = await Sqlite.open(path, 'existing');
    // A checkpoint syncs the database file before the WAL may be reset only under FULL or NORMAL.
    await folder.exec('PRAGMA synchronous = FULL;');
    const store = new Store(writer, reader, folder, slots, options);
    const row = await reader.get<{ n: number }>(`SELECT count(*) AS n FROM records WHERE state IN (${PENDING_STATES.join(', ')})`);
    store.pending = row?.n ?? 0;
    store.bytes = await store.readBytes(reader);
    store.tip = await store.readTip();
    // After a SIGKILL the WAL may still hold keys wiped before it: fold it in before serving.
    if (!(await store.truncateWal().catch(() => false))) store.checkpointer.wiped();
    return store;
  }

  get pendingCount(): number {
    return this.pending;
  }

  /** Sealed bytes held by records that are not final, as committed (SPEC §8). */
  get storedBytes(): number {
    return this.bytes;
  }

  /**
   * Committed bytes plus those of submissions on their way in. Admission judges by this, so that
   * concurrent submissions see each other and cannot all slip past a threshold at the same fill.
   */
  get admittedBytes(): number {
    return this.bytes + this.queuedBytes;
  }

  /** The last chain tip saved, kept across restarts; null if the server never knew one. */
  get lastTip(): Tip | null {
    return this.tip;
  }

  /** Whether a new blob of `size` bytes fits the quotas now (the insert decides for good). */
  hasRoom(size: number): boolean {
    return this.pending < this.options.maxPending && this.admittedBytes + size <= this.maxStoreBytes;
  }

  private get maxStoreBytes(): number {
    return this.options.maxStoreBytes ?? Number.MAX_SAFE_INTEGER;
  }

  private async readBytes(db: Sqlite): Promise<number> {
    const row = await db.get<{ bytes: number }>('SELECT bytes FROM store_bytes');
    return row?.bytes ?? 0;
  }

  private async readTip(): Promise<Tip | null> {
    const row = await this.reader.get<{ height: number; hash: Buffer; median_time: number }>('SELECT height, hash, median_time FROM last_tip');
    return row ? { height: row.height, hash: row.hash.toString('hex'), medianTime: row.median_time } : null;
  }

  /** Keeps `tip` as the last one known; committed before it resolves. */
  saveTip(tip: Tip): Promise<void> {
    return this.serial(async () => {
      await this.writer.run(
        `INSERT INTO last_tip (one, height, hash, median_time) VALUES (1, ?, ?, ?)
         ON CONFLICT (one) DO UPDATE SET height = excluded.height, hash = excluded.hash, median_time = excluded.median_time`,
        [tip.height, Buffer.from(tip.hash, 'hex'), tip.medianTime],
      );
      this.tip = tip;
    });
  }

  /** Whether a record with this id exists, in whatever state. */
  async has(id: string): Promise<boolean> {
    return (await this.reader.get(`SELECT 1 FROM records WHERE id = ?`, [Buffer.from(id, 'hex')])) !== undefined;
  }

  /** Runs fn after every earlier write: SQLite has one writer, and BEGIN…COMMIT must not interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Stores a submission; concurrent callers share one statement and one fsync, and hear back after it.
   * Its bytes count against admission at once, but it joins a batch only once `ready` resolves (the
   * intake's receipt signature): if `ready` fails, nothing is stored and the failure is the answer.
   */
  submit(record: NewRecord, ready: Promise<unknown> = Promise.resolve()): Promise<InsertOutcome> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    this.queuedBytes += record.sealed.length;
    return ready.then(
      () => this.submissions.push(record),
      (err: unknown) => {
        this.queuedBytes -= record.sealed.length;
        throw err;
      },
    );
  }

  private async insertBatch(records: readonly NewRecord[]): Promise<InsertOutcome[]> {
    try {
      return await this.insertOrFind(records);
    } finally {
      // Before any caller hears back: from here on, what went in is in `bytes`.
      for (const r of records) this.queuedBytes -= r.sealed.length;
    }
  }

  private async insertOrFind(records: readonly NewRecord[]): Promise<InsertOutcome[]> {
    // A duplicate within the batch gets the first one's answer.
    const firsts = new Map<string, NewRecord>();
    for (const r of records) if (!firsts.has(r.id.toString('hex'))) firsts.set(r.id.toString('hex'), r);
    // Only what fits both quotas; the rest are answered store_full (or, if they turn out to exist
    // already, as the safe retry they are), or all unavailable if the disk is full.
    const inserted = await this.insertNew(this.withinQuotas([...firsts.values()])).catch((err: unknown) => (isDiskFull(err) ? null : Promise.reject(err)));
    const existing = await this.find([...firsts.keys()].filter((id) => !inserted?.has(id)));
    const refused: InsertOutcome = { kind: inserted === null ? 'disk_full' : 'full' };
    return records.map((r) => {
      const id = r.id.toString('hex');
      const row = inserted?.get(id);
      if (row) return { kind: firsts.get(id) === r ? 'inserted' : 'existing', record: row };
      const found = existing.get(id);
      return found ? { kind: 'existing', record: found } : refused;
    });
  }

  /** The records that fit both quotas, in arrival order: a big one that does not fit lets a smaller one after it in. */
  private withinQuotas(records: readonly NewRecord[]): NewRecord[] {
    let count = this.pending;
    let bytes = this.bytes;
    return records.filter((r) => {
      if (count >= this.options.maxPending || bytes + r.sealed.length > this.maxStoreBytes) return false;
      count++;
      bytes += r.sealed.length;
      return true;
    });
  }

  /**
   * One transaction: the records (each blob encrypted under its own key), then their keys. The
   * records statement says which ones were new; the slots of the others get a zero key.
   */
  private async insertNew(records: readonly NewRecord[]): Promise<Map<string, StoredRecord>> {
    if (records.length === 0) return new Map();
    const fresh = records.map(newRecord);
    const taken = this.slots.take(records.length);
    const params: Param[] = [];
    fresh.forEach((f, i) =>
      params.push(records[i]!.id, records[i]!.keyId, f.locktime, f.window, f.state, f.wake, atRest(taken.keys[i]!, records[i]!.sealed), f.tokenHash, taken.slots[i]!),
    );
    let rows: readonly StoredRecord[];
    await this.writer.exec('BEGIN IMMEDIATE');
    try {
      rows = await this.insertAll(`INSERT INTO records ${INSERT_COLUMNS} VALUES ${records.map(() => '(?,?,?,?,?,?,?,?,?)').join(',')}`, params, fresh);
      const inserted = new Set(rows.map((r) => r.id));
      const unused = await putKeys(this.writer, taken, fresh.map((f) => inserted.has(f.id)));
      await this.writer.exec('COMMIT');
      this.slots.give(unused);
    } catch (err) {
      await this.writer.exec('ROLLBACK').catch(() => undefined);
      taken.undo();
      throw err;
    }
    this.pending += rows.length;
    // The triggers of migration 3 added the same in the same transaction.
    for (const r of rows) this.bytes += r.sealed!.length;
    return byId(rows);
  }

  /**
   * Usually every id is new, and the plain INSERT hands nothing back row by row (the sqlite3
   * binding spends ~17,000 instructions on each row it returns, callgrind). If one is already stored,
   * that INSERT fails whole on the UNIQUE id and changes nothing; the batch then goes in again
   * skipping what exists, and SQLite says which rows it took.
   */
  private async insertAll(insert: string, params: Param[], fresh: readonly StoredRecord[]): Promise<readonly StoredRecord[]> {
    try {
      await this.writer.run(insert, params);
      return fresh;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_CONSTRAINT') throw err;
      const rows = await this.writer.all<{ id: Buffer }>(`${insert} ON CONFLICT (id) DO NOTHING RETURNING id`, params);
      const inserted = new Set(rows.map((r) => r.id.toString('hex')));
      return fresh.filter((f) => inserted.has(f.id));
    }
  }

  /** Through the writer, in its turn: it has seen every batch committed before this one. */
  private async find(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await this.writer.all<RecordRow>(`SELECT ${RECORD} FROM records WHERE id IN (${placeholders(ids.length)})`, ids.map((id) => Buffer.from(id, 'hex')));
    return byId(rows.map(toStoredRecord));
  }

  async get(id: string): Promise<StoredRecord | undefined> {
    const row = await this.reader.get<RecordRow>(`SELECT ${RECORD} FROM records WHERE id = ?`, [Buffer.from(id, 'hex')]);
    return row ? toStoredRecord(row) : undefined;
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
  dueByWake(state: State, now: number, limit: number): Promise<DueRecord[]> {
    return this.due(statements.dueUpTo, [state, now], limit);
  }

  private async due(sql: string, params: Param[], limit: number): Promise<DueRecord[]> {
    const row = await this.reader.get<{ j: string }>(sql, [...params, limit]);
    return (JSON.parse(row?.j ?? '[]') as Fields[]).map(toRecord);
  }

  /** The sealed blobs of `ids` that still have one (a wiped or purged record has none). */
  async sealedBlobs(ids: readonly string[]): Promise<Map<string, Buffer>> {
    const blobs = new Map<string, Buffer>();
    for (let k = 0; k < ids.length; k += 500) {
      const chunk = ids.slice(k, k + 500);
      const rows = await this.reader.all<{ id: Buffer; sealed: Buffer; blob_key: Buffer | null }>(
        `SELECT id, sealed, ${keySql.keyColumn} FROM records WHERE id IN (${placeholders(chunk.length)}) AND sealed IS NOT NULL`,
        chunk.map((id) => Buffer.from(id, 'hex')),
      );
      for (const row of rows) blobs.set(row.id.toString('hex'), opened(row.sealed, row.blob_key)!);
    }
    return blobs;
  }

  /**
   * Applies transitions; concurrent callers share one SQLite transaction (group commit, as for
   * submissions). Resolves with the ids that actually changed state, after COMMIT.
   */
  transition(transitions: readonly Transition[]): Promise<Set<string>> {
    if (transitions.length === 0) return Promise.resolve(new Set());
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.transitions.push(transitions);
  }

  private async applyTransitions(batch: ReadonlyArray<readonly Transition[]>): Promise<Set<string>[]> {
    const changed = new Set<string>();
    const zeroed: number[] = [];
    let left = 0;
    let bytes: number;
    await this.writer.exec('BEGIN IMMEDIATE');
    try {
      for (const round of rounds(batch.flat())) {
        const done = await this.applyRound(round, zeroed);
        for (const id of done) changed.add(id);
        left += leftPending(round, done);
      }
      // Wipes and final states changed it through the triggers of migration 3, in this transaction.
      bytes = await this.readBytes(this.writer);
      await this.writer.exec('COMMIT');
    } catch (err) {
      await this.writer.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.pending -= left;
    this.bytes = bytes;
    this.slots.give(zeroed);
    if (zeroed.length > 0) this.checkpointer.wiped();
    return batch.map((transitions) => new Set(transitions.filter((t) => changed.has(t.id)).map((t) => t.id)));
  }

  /**
   * One round (each record once): wipes one by one, each zeroing its key first; the rest a statement
   * per shape. Resolves with the ids that changed; the key slots zeroed are added to `zeroed`.
   */
  private async applyRound(round: readonly Transition[], zeroed: number[]): Promise<Set<string>> {
    const changed = new Set<string>();
    for (const t of round.filter((x) => x.wipe)) {
      zeroed.push(...(await this.zeroKey(t)));
      if (await this.applyTransition(t)) changed.add(t.id);
    }
    for (const { sql, params } of groupedUpdates(round.filter((x) => !x.wipe))) {
      for (const row of await this.writer.all<{ id: Buffer }>(sql, params)) changed.add(row.id.toString('hex'));
    }
    return changed;
  }

  /** Zeroes the key of a record that `t` will wipe (under the same state condition); the slots zeroed. */
  private async zeroKey(t: Transition): Promise<number[]> {
    const rows = await this.writer.all<{ slot: number }>(keySql.wipe(t.from.length), [Buffer.from(t.id, 'hex'), ...t.from]);
    return rows.map((r) => r.slot);
  }

  private async applyTransition(t: Transition): Promise<boolean> {
    const { columns, values } = setColumns(t);
    const sets = ['state = ?', 'wake = ?', ...(t.wipe ? ['sealed = NULL', 'key_slot = NULL'] : []), ...columns.map((c) => `${c} = ?`)];
    const params: Param[] = [t.to, t.wake, ...values, Buffer.from(t.id, 'hex'), ...t.from];
    const { changes } = await this.writer.run(`UPDATE records SET ${sets.join(', ')} WHERE id = ? AND state IN (${placeholders(t.from.length)})`, params);
    return changes > 0;
  }

  /**
   * Deletes terminal records whose retention ran out. Every final state was reached by a wipe (key
   * zeroed, blob gone, checkpoint scheduled then), so nothing secret leaves here and no checkpoint follows.
   */
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

  /** Folds the WAL into the database and truncates it, so old copies of wiped keys do not linger there. */
  async checkpoint(): Promise<void> {
    await this.truncateWal();
  }

  /**
   * Folds the WAL in and truncates it; false when a reader kept it from finishing. Most of the
   * copying is a PASSIVE checkpoint on a connection of its own, alongside the writes; what came
   * since is folded in, and the WAL truncated, in the writer's turn.
   */
  private async truncateWal(): Promise<boolean> {
    await this.folder.get('PRAGMA wal_checkpoint(PASSIVE)');
    return this.serial(() => this.truncateInTurn());
  }

  /**
   * TRUNCATE waits for readers on older snapshots (a long `relaystore backup`): it waits briefly and
   * is tried again later, rather than holding up every write behind it for the usual busy timeout.
   */
  private async truncateInTurn(): Promise<boolean> {
    await this.writer.exec(`PRAGMA busy_timeout = ${CHECKPOINT_BUSY_MS}`);
    try {
      const row = await this.writer.get<{ busy: number }>('PRAGMA wal_checkpoint(TRUNCATE)');
      return row?.busy === 0;
    } finally {
      await this.writer.exec(`PRAGMA busy_timeout = ${BUSY_MS}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.checkpointer.close();
    await this.serial(async () => undefined);
    await this.folder.close();
    await this.reader.close();
    await this.writer.close();
  }
}

/** How many records of a round (each once) left the pending states: a change from pending states only, to another. */
function leftPending(round: readonly Transition[], changed: ReadonlySet<string>): number {
  return round.filter((t) => changed.has(t.id) && t.from.every((s) => PENDING_STATES.includes(s)) && !PENDING_STATES.includes(t.to)).length;
}

function byId(records: readonly StoredRecord[]): Map<string, StoredRecord> {
  return new Map(records.map((r) => [r.id, r]));
}
