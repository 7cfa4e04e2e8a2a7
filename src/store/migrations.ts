// Versioned schema migrations, applied in order and recorded in PRAGMA user_version.
import type { Sqlite } from './sqlite.js';

export const MIGRATIONS: readonly string[] = [
  // 1: the records table. No arrival time, no submitter data: only what the state machine needs.
  `CREATE TABLE records (
     id            BLOB    NOT NULL UNIQUE,
     key_id        BLOB    NOT NULL,
     locktime      INTEGER NOT NULL,
     window        INTEGER NOT NULL,
     state         INTEGER NOT NULL,
     wake          INTEGER NOT NULL,
     sealed        BLOB,
     token_hash    BLOB    NOT NULL,
     txid          BLOB,
     attempts      INTEGER NOT NULL DEFAULT 0,
     broadcast_at  INTEGER,
     confirmations INTEGER,
     error_code    TEXT,
     hold_height   INTEGER
   );
   -- Every scheduler query is a range on (state, wake): finding what is due never scans.
   CREATE INDEX records_due ON records (state, wake);`,
];

export async function migrate(db: Sqlite): Promise<number> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const from = row?.user_version ?? 0;
  if (from > MIGRATIONS.length) {
    throw new Error(`database schema version ${from} is newer than this RelayStore (${MIGRATIONS.length})`);
  }
  for (let v = from; v < MIGRATIONS.length; v++) {
    await db.exec(`BEGIN IMMEDIATE; ${MIGRATIONS[v]}; PRAGMA user_version = ${v + 1}; COMMIT;`);
  }
  return MIGRATIONS.length;
}
