// Store properties that the scheduler relies on: due-queries are index range scans (a million
// pending records cost the same tick as ten), and the pragmas of SPEC §5 are in force.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sqlite, type Param } from '../src/store/sqlite.js';
import { Store, DB_FILE, statements } from '../src/store/store.js';
import { State, TERMINAL_STATES } from '../src/domain/record.js';
import { LOCKTIME_THRESHOLD } from '../src/domain/locktime.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { atRest, keySql, KEY_BYTES } from '../src/store/at-rest.js';

async function openBoth(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-store-'));
  const store = await Store.open(dir, { maxPending: 10 });
  const db = await Sqlite.open(join(dir, DB_FILE));
  t.teardown(async () => {
    await db.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, db };
}

const nameOf = (state: State) => Object.keys(State).find((k) => State[k as keyof typeof State] === state)!;

// The store's own statements, bound as its callers bind them: each scan of a tick and the purge.
const NOW = 1_718_000_000;
const SCANS: Array<[string, string, Param[]]> = [
  ['pending, mature by height', statements.dueUpTo, [State.Pending, 850_000, 256]],
  ['pending, mature by time', statements.dueBetween, [State.Pending, LOCKTIME_THRESHOLD, NOW, 256]],
  ...[State.Windowed, State.Broadcasting, State.Broadcast].map((state): [string, string, Param[]] => [`${nameOf(state)} whose wake came`, statements.dueUpTo, [state, NOW, 256]]),
  ...TERMINAL_STATES.map((state): [string, string, Param[]] => [`purge of ${nameOf(state)}`, statements.purge, [state, NOW, 1000]]),
];

for (const [what, sql, params] of SCANS) {
  test(`never scans the table: ${what}`, async (t) => {
    const { db } = await openBoth(t);
    const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    const details = plan.map((p) => p.detail);
    t.true(details.some((d) => /USING (COVERING )?INDEX records_due/.test(d)), details.join(' | '));
    t.false(details.some((d) => /^SCAN records\b/.test(d) && !/INDEX/.test(d)), details.join(' | '));
    t.false(details.some((d) => /TEMP B-TREE/.test(d)), `no sort, the index gives the order: ${details.join(' | ')}`);
  });
}

test('WAL, synchronous=FULL and secure_delete are on for the writer', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await Store.open(dir, { maxPending: 10 });
  // Pragmas are per connection: read them through the store's own writer.
  const writer = (store as unknown as { writer: Sqlite }).writer;
  t.is((await writer.get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode, 'wal');
  t.is((await writer.get<{ synchronous: number }>('PRAGMA synchronous'))?.synchronous, 2);
  t.is((await writer.get<{ secure_delete: number }>('PRAGMA secure_delete'))?.secure_delete, 1);
  t.is((await writer.get<{ user_version: number }>('PRAGMA user_version'))?.user_version, MIGRATIONS.length);
  await store.close();
});

test('a version-1 database is migrated in place: its records keep their state and gain empty ladder fields', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const old = await Sqlite.open(join(dir, DB_FILE));
  await old.exec(`BEGIN; ${MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;`);
  await old.run('INSERT INTO records (id, key_id, locktime, window, state, wake, token_hash, txid) VALUES (?, ?, 5, 0, 4, 10, ?, ?)', [
    Buffer.alloc(16, 1), Buffer.alloc(8), Buffer.alloc(32), Buffer.alloc(32, 2),
  ]);
  await old.close();
  const store = await Store.open(dir, { maxPending: 10 });
  t.teardown(() => store.close());
  const [due] = await store.dueByWake(4, 10, 10);
  const got = await store.get('01'.repeat(16));
  for (const r of [due!, got!]) {
    t.like(r, { state: 4, txid: '02'.repeat(32), rungs: null, rung: null, feeRate: null, txids: null, sentHeight: null });
    t.deepEqual(r.sent, []);
  }
});

test('ladder fields go through a transition and come back from both reads', async (t) => {
  const { store } = await openBoth(t);
  const outcome = await store.submit({ id: Buffer.alloc(16, 3), keyId: Buffer.alloc(8), locktime: 5, window: 0, sealed: Buffer.alloc(100), tokenHash: Buffer.alloc(32) });
  t.is(outcome.kind, 'inserted');
  const id = '03'.repeat(16);
  const fields = { rungs: 3, rung: 1, feeRate: 12.5, txids: ['aa'.repeat(32), 'bb'.repeat(32)], sentHeight: 700, sent: [{ rung: 0, txid: 'cc'.repeat(32) }, { rung: 1, txid: 'aa'.repeat(32) }] };
  await store.transition([{ id, from: [1], to: 4, wake: 20, ...fields }]);
  const [due] = await store.dueByWake(4, 20, 10);
  t.like(due, fields);
  t.like(await store.get(id), fields);
});

test('one batch: new records land byte for byte (opened with their own keys); a stored one and a repeat within the batch answer existing; counts follow', async (t) => {
  const { store, db } = await openBoth(t);
  const record = (n: number, locktime = 800_000 + n) => ({ id: Buffer.alloc(16, n), keyId: Buffer.alloc(8, 0xa0 + n), locktime, window: n, sealed: Buffer.alloc(100 + n, 0xf0 + n), tokenHash: Buffer.alloc(32, 0x10 + n) });
  t.is((await store.submit(record(1))).kind, 'inserted');
  const outcomes = await Promise.all([store.submit(record(2)), store.submit(record(1)), store.submit(record(3, LOCKTIME_THRESHOLD + 7)), store.submit(record(2))]);
  t.deepEqual(outcomes.map((o) => o.kind), ['inserted', 'existing', 'inserted', 'existing']);
  t.is(store.pendingCount, 3);
  t.is(store.storedBytes, 101 + 102 + 103);
  // Blobs are stored encrypted under a key of their own (at-rest.ts): opened with it, byte for byte.
  const stored = await db.all<{ id: Buffer; key_id: Buffer; locktime: number; window: number; state: number; wake: number; sealed: Buffer; token_hash: Buffer; blob_key: Buffer }>(
    `SELECT id, key_id, locktime, window, state, wake, sealed, token_hash, ${keySql.keyColumn} FROM records ORDER BY id`,
  );
  const rows = stored.map(({ blob_key, ...row }) => ({ ...row, sealed: atRest(blob_key, row.sealed) }));
  t.is((await db.get<{ n: number }>('SELECT count(*) AS n FROM blob_keys WHERE key != zeroblob(?)', [KEY_BYTES]))?.n, 3);
  t.deepEqual(rows, [record(1), record(2), record(3, LOCKTIME_THRESHOLD + 7)].map((r) => ({
    id: r.id, key_id: r.keyId, locktime: r.locktime, window: r.window, state: State.Pending, wake: r.locktime, sealed: r.sealed, token_hash: r.tokenHash,
  })));
});
