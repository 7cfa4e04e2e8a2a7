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
  // 3: admission (SPEC §8). The sealed bytes held by records that are not final (states 1-4:
  // pending, windowed, broadcasting, broadcast), kept by triggers inside the very statement that
  // inserts, wipes or deletes, so no crash can leave the count wrong; and the last chain tip known,
  // against which height locktimes are judged until the first poll of a new start answers.
  `CREATE TABLE store_bytes (one INTEGER PRIMARY KEY CHECK (one = 1), bytes INTEGER NOT NULL);
   INSERT INTO store_bytes (one, bytes) SELECT 1, coalesce(sum(length(sealed)), 0) FROM records WHERE state IN (1, 2, 3, 4);
   CREATE TRIGGER store_bytes_insert AFTER INSERT ON records WHEN NEW.state IN (1, 2, 3, 4)
   BEGIN
     UPDATE store_bytes SET bytes = bytes + coalesce(length(NEW.sealed), 0);
   END;
   CREATE TRIGGER store_bytes_update AFTER UPDATE OF state, sealed ON records
   WHEN OLD.state IN (1, 2, 3, 4) OR NEW.state IN (1, 2, 3, 4)
   BEGIN
     UPDATE store_bytes SET bytes = bytes
       + CASE WHEN NEW.state IN (1, 2, 3, 4) THEN coalesce(length(NEW.sealed), 0) ELSE 0 END
       - CASE WHEN OLD.state IN (1, 2, 3, 4) THEN coalesce(length(OLD.sealed), 0) ELSE 0 END;
   END;
   CREATE TRIGGER store_bytes_delete AFTER DELETE ON records WHEN OLD.state IN (1, 2, 3, 4)
   BEGIN
     UPDATE store_bytes SET bytes = bytes - coalesce(length(OLD.sealed), 0);
   END;
   CREATE TABLE last_tip (one INTEGER PRIMARY KEY CHECK (one = 1), height INTEGER NOT NULL, hash BLOB NOT NULL, median_time INTEGER NOT NULL)`,
  // 4: blob keys (SPEC §8, at-rest.ts). A record's blob is stored encrypted under the key in its
  // slot; wiping zeroes the key in place. Slots are reused, never deleted. Blobs stored before this
  // migration are encrypted when the store opens (records.key_slot NULL and a blob: not yet).
  `CREATE TABLE blob_keys (slot INTEGER PRIMARY KEY, key BLOB NOT NULL);
   ALTER TABLE records ADD COLUMN key_slot INTEGER`,
  // 5: a VACUUM owed (at-rest.ts vacuumIfOwed). A database written before blob keys keeps old copies
  // of its blobs, live or wiped, in free space until the file is rewritten whole; owed until that is
  // done, so that a crash before it, or a database with nothing left to encrypt, does not keep them.
  // Records and no key ever written: such a database, whatever it still holds.
  `CREATE TABLE vacuum_owed (one INTEGER PRIMARY KEY CHECK (one = 1));
   INSERT INTO vacuum_owed (one) SELECT 1 WHERE EXISTS (SELECT 1 FROM records) AND NOT EXISTS (SELECT 1 FROM blob_keys)`,
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
