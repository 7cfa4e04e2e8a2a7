// A batch of transitions applied as grouped statements (src/store/transition-sql.ts) leaves the records,
// the admission count and the set of changed records exactly as applying them one by one, in order.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { Sqlite, type Param } from '../src/store/sqlite.js';
import { migrate } from '../src/store/migrations.js';
import { groupedUpdates, rounds, setColumns } from '../src/store/transition-sql.js';
import type { Transition } from '../src/store/store.js';
import type { State } from '../src/domain/record.js';

const IDS = Array.from({ length: 6 }, (_, i) => `${i}`.padStart(32, '0'));
const state = () => fc.integer({ min: 1, max: 8 }) as fc.Arbitrary<State>;

/** Transitions of the kinds the scheduler makes (never a wipe: those go one by one), several per record. */
const transition: fc.Arbitrary<Transition> = fc.record(
  {
    id: fc.constantFrom(...IDS),
    from: fc.uniqueArray(state(), { minLength: 1, maxLength: 3 }),
    to: state(),
    wake: fc.integer({ min: 0, max: 2_000_000_000 }),
    txid: fc.constantFrom('aa'.repeat(32), 'bb'.repeat(32)),
    attempts: fc.nat(5),
    broadcastAt: fc.option(fc.nat(), { nil: null }),
    errorCode: fc.option(fc.constantFrom('rejected', 'invalid_transaction'), { nil: null }),
    rung: fc.option(fc.nat(15), { nil: null }),
    sent: fc.array(fc.record({ rung: fc.nat(15), txid: fc.constant('cc'.repeat(32)) }), { maxLength: 2 }),
  },
  { requiredKeys: ['id', 'from', 'to', 'wake'] },
);

async function storeWith(states: readonly State[], ids: readonly string[] = IDS): Promise<Sqlite> {
  const db = await Sqlite.open(':memory:');
  await migrate(db);
  for (const [i, id] of ids.entries()) {
    await db.run('INSERT INTO records (id, key_id, locktime, window, state, wake, sealed, token_hash) VALUES (?, ?, 0, 0, ?, 0, ?, ?)', [
      Buffer.from(id, 'hex'), Buffer.alloc(8), states[i % states.length]!, Buffer.alloc(100 + i), Buffer.alloc(32),
    ]);
  }
  return db;
}

/** The meaning of a transition, one statement each, in order: what the grouped statements must equal. */
async function oneByOne(db: Sqlite, transitions: readonly Transition[]): Promise<Set<string>> {
  const changed = new Set<string>();
  for (const t of transitions) {
    const { columns, values } = setColumns(t);
    const sets = ['state = ?', 'wake = ?', ...columns.map((c) => `${c} = ?`)].join(', ');
    const params: Param[] = [t.to, t.wake, ...values, Buffer.from(t.id, 'hex'), ...t.from];
    const { changes } = await db.run(`UPDATE records SET ${sets} WHERE id = ? AND state IN (${t.from.map(() => '?').join(',')})`, params);
    if (changes > 0) changed.add(t.id);
  }
  return changed;
}

async function grouped(db: Sqlite, transitions: readonly Transition[]): Promise<Set<string>> {
  const changed = new Set<string>();
  for (const round of rounds(transitions)) {
    for (const { sql, params } of groupedUpdates(round)) {
      for (const row of await db.all<{ id: Buffer }>(sql, params)) changed.add(row.id.toString('hex'));
    }
  }
  return changed;
}

const everything = (db: Sqlite) => db.all('SELECT *, (SELECT bytes FROM store_bytes) AS counted FROM records ORDER BY id');

testProp(
  'grouped statements change the same records, the same way, as one statement per transition in order',
  [fc.array(state(), { minLength: IDS.length, maxLength: IDS.length }), fc.array(transition, { maxLength: 24 })],
  async (t, states, transitions) => {
    const [a, b] = [await storeWith(states), await storeWith(states)];
    t.deepEqual([...(await grouped(b, transitions))].sort(), [...(await oneByOne(a, transitions))].sort());
    t.deepEqual(await everything(b), await everything(a));
    await Promise.all([a.close(), b.close()]);
  },
  { numRuns: 150 },
);

test('a burst larger than one statement (300 records, then 40 of them again) ends as one by one', async (t) => {
  const ids = Array.from({ length: 300 }, (_, i) => `${i}`.padStart(32, '0'));
  const opened: Transition[] = ids.map((id, i) => ({ id, from: [1], to: 3, wake: i, txid: 'aa'.repeat(32), attempts: 0 }));
  const sent: Transition[] = ids.slice(0, 40).map((id) => ({ id, from: [3], to: 4, wake: 7, broadcastAt: 1 }));
  t.true(groupedUpdates(opened).length > 1, 'split into statements of at most 256 records');
  const [a, b] = [await storeWith([1, 1, 2], ids), await storeWith([1, 1, 2], ids)];
  t.deepEqual([...(await grouped(b, [...opened, ...sent]))].sort(), [...(await oneByOne(a, [...opened, ...sent]))].sort());
  t.deepEqual(await everything(b), await everything(a));
  await Promise.all([a.close(), b.close()]);
});

test('a record changed twice in a batch is changed in the order given (its second change in a later round)', (t) => {
  const [x, y] = IDS;
  const batch: Transition[] = [
    { id: x!, from: [1], to: 3, wake: 1 },
    { id: y!, from: [1], to: 3, wake: 1 },
    { id: x!, from: [3], to: 4, wake: 2 },
  ];
  t.deepEqual(rounds(batch), [[batch[0], batch[1]], [batch[2]]]);
});

test('one statement per shape, its rows padded to a power of two with rows that name no record', (t) => {
  const round: Transition[] = IDS.slice(0, 3).map((id) => ({ id, from: [1], to: 3, wake: 5, txid: 'aa'.repeat(32) }));
  const [statement, ...more] = groupedUpdates([...round, { id: IDS[3]!, from: [3], to: 4, wake: 9, attempts: 1 }]);
  t.is(more.length, 1);
  t.is(statement!.params.length, 4 * 5);
  t.deepEqual(statement!.params.slice(15), [null, null, null, null, null]);
});
