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
  // 2: fee ladders (SPEC §7). What survives a SIGKILL between two rungs: which rung is being sent,
  // since which tip, and every rung that went out (so tracking follows each). Txids only: the raw
  // transactions stay in memory and are opened again from the sealed blob after a restart.
  `ALTER TABLE records ADD COLUMN rungs INTEGER;       -- rungs in the opened bundle; NULL for a bare transaction
   ALTER TABLE records ADD COLUMN rung INTEGER;        -- index of the rung being sent or last sent
   ALTER TABLE records ADD COLUMN fee_rate REAL;       -- its declared fee rate, sat/vB
   ALTER TABLE records ADD COLUMN txids TEXT;          -- JSON array: its transactions, parents first
   ALTER TABLE records ADD COLUMN sent_height INTEGER; -- tip height when it was first accepted
   ALTER TABLE records ADD COLUMN sent TEXT;           -- JSON array of {rung, txid}: every rung accepted`,
];

export async function migrate(db: Sqlite): Promise<number> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const from = row?.user_version ?? 0;
  if (from > MIGRATIONS.length) {
    throw new Error(`database schema version ${from} is newer than this RelayStore (${MIGRATIONS.length})`);
  }
  for (let v = from; v < MIGRATIONS.length; v++) {
    // On lines of their own, so that a migration ending in an SQL comment does not swallow them.
    await db.exec(`BEGIN IMMEDIATE;\n${MIGRATIONS[v]};\nPRAGMA user_version = ${v + 1};\nCOMMIT;`);
  }
  return MIGRATIONS.length;
}
