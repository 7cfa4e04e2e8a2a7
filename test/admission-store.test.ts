// SPEC §8 in the store: the byte count of records that are not final stays equal to what the rows
// hold through inserts, wipes, final states, purges and reopening; the quota refuses what would pass
// it; the last tip known outlives a restart.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Sqlite } from '../src/store/sqlite.js';
import { Store, DB_FILE, type NewRecord } from '../src/store/store.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { State, TERMINAL_STATES } from '../src/domain/record.js';

type T = { teardown(fn: () => unknown): void };

async function tempDir(t: T): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-admission-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const record = (size: number, id: Buffer = randomBytes(16)): NewRecord => ({ id, keyId: Buffer.alloc(8), locktime: 5, window: 0, sealed: randomBytes(size), tokenHash: Buffer.alloc(32) });

/** The count as the rows themselves say it, read on a connection of its own. */
async function recount(dir: string): Promise<{ rows: number; counter: number }> {
  const db = await Sqlite.open(join(dir, DB_FILE), 'readonly');
  const rows = await db.get<{ n: number }>('SELECT coalesce(sum(length(sealed)), 0) AS n FROM records WHERE state IN (1, 2, 3, 4)');
  const counter = await db.get<{ bytes: number }>('SELECT bytes FROM store_bytes');
  await db.close();
  return { rows: rows!.n, counter: counter!.bytes };
}

test('the count follows an insert, a move between live states, a wipe to a final state and a purge', async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(dir, { maxPending: 100 });
  const [a, b] = [record(1000), record(300)];
  await store.submit(a);
  await store.submit(b);
  t.is(store.storedBytes, 1300);
  const idA = a.id.toString('hex');
  await store.transition([{ id: idA, from: [State.Pending], to: State.Broadcasting, wake: 1 }]);
  t.is(store.storedBytes, 1300, 'broadcasting still holds its blob');
  await store.transition([{ id: idA, from: [State.Broadcasting], to: State.Confirmed, wake: 1, wipe: true }]);
  t.is(store.storedBytes, 300);
  await store.purge(10);
  t.is(store.storedBytes, 300);
  t.deepEqual(await recount(dir), { rows: 300, counter: 300 });
  await store.close();
  const again = await Store.open(dir, { maxPending: 100 });
  t.is(again.storedBytes, 300, 'read back at open');
  await again.close();
});

test('a blob that would pass --max-store-bytes is store_full; one that fits still goes in; a retry of a stored blob is answered', async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(dir, { maxPending: 100, maxStoreBytes: 1000 });
  t.teardown(() => store.close());
  const first = record(600);
  t.is((await store.submit(first)).kind, 'inserted');
  t.false(store.hasRoom(401));
  t.true(store.hasRoom(400));
  // In one batch: the big one does not fit, the small one after it does.
  const [big, small, retry] = await Promise.all([store.submit(record(500)), store.submit(record(400)), store.submit({ ...first, sealed: first.sealed })]);
  t.is(big.kind, 'full');
  t.is(small.kind, 'inserted');
  t.is(retry.kind, 'existing');
  t.is(store.storedBytes, 1000);
  t.is((await store.submit(record(1))).kind, 'full');
});

test('a submission on its way in counts against the quota before it is committed', async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(dir, { maxPending: 100, maxStoreBytes: 1000 });
  t.teardown(() => store.close());
  const landing = store.submit(record(700));
  t.is(store.storedBytes, 0);
  t.is(store.admittedBytes, 700);
  t.false(store.hasRoom(301), 'a concurrent submission sees it');
  await landing;
  t.is(store.storedBytes, 700);
  t.is(store.admittedBytes, 700);
  t.is((await store.submit(record(900))).kind, 'full');
  t.is(store.admittedBytes, 700, 'a refused one leaves nothing behind');
});

test('the last tip is kept across a restart; a new store has none', async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(dir, { maxPending: 10 });
  t.is(store.lastTip, null);
  const tip = { height: 850_123, hash: 'ab'.repeat(32), medianTime: 1_718_000_000 };
  await store.saveTip({ height: 850_122, hash: 'cd'.repeat(32), medianTime: 1_717_999_000 });
  await store.saveTip(tip);
  t.deepEqual(store.lastTip, tip);
  await store.close();
  const again = await Store.open(dir, { maxPending: 10 });
  t.deepEqual(again.lastTip, tip);
  await again.close();
});

test('a version-2 database is migrated with the count of what its live records hold', async (t) => {
  const dir = await tempDir(t);
  const old = await Sqlite.open(join(dir, DB_FILE));
  await old.exec(`BEGIN;\n${MIGRATIONS[0]};\n${MIGRATIONS[1]};\nPRAGMA user_version = 2;\nCOMMIT;`);
  const insert = 'INSERT INTO records (id, key_id, locktime, window, state, wake, sealed, token_hash) VALUES (?, ?, 5, 0, ?, 10, ?, ?)';
  for (const [state, sealed] of [[State.Pending, randomBytes(700)], [State.Broadcast, randomBytes(50)], [State.Cancelled, null]] as const) {
    await old.run(insert, [randomBytes(16), Buffer.alloc(8), state, sealed, Buffer.alloc(32)]);
  }
  await old.close();
  const store = await Store.open(dir, { maxPending: 10 });
  t.is(store.storedBytes, 750);
  await store.close();
});

const LIVE: readonly State[] = [State.Pending, State.Windowed, State.Broadcasting, State.Broadcast];
const op = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), size: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), to: fc.constantFrom(...LIVE, ...TERMINAL_STATES), wipe: fc.boolean() }),
  fc.record({ kind: fc.constant('purge' as const) }),
);

testProp(
  'after any sequence of inserts, transitions (wiping or not) and purges, the count is what the live rows hold, in memory, on disk and after reopening',
  [fc.array(op, { minLength: 1, maxLength: 25 })],
  async (t, ops) => {
    const dir = await mkdtemp(join(tmpdir(), 'relaystore-admission-'));
    try {
      const store = await Store.open(dir, { maxPending: 1000 });
      const ids: Array<{ id: string; state: State }> = [];
      for (const o of ops) {
        if (o.kind === 'insert') {
          const r = record(o.size);
          await store.submit(r);
          ids.push({ id: r.id.toString('hex'), state: State.Pending });
        } else if (o.kind === 'move' && ids.length > 0) {
          const target = ids[o.pick % ids.length]!;
          await store.transition([{ id: target.id, from: [target.state], to: o.to, wake: 0, wipe: o.wipe }]);
          target.state = o.to;
        } else if (o.kind === 'purge') {
          await store.purge(1);
        }
      }
      const { rows, counter } = await recount(dir);
      t.is(counter, rows);
      t.is(store.storedBytes, rows);
      await store.close();
      const again = await Store.open(dir, { maxPending: 1000 });
      t.is(again.storedBytes, rows);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  { numRuns: 40 },
);
