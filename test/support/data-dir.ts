// Reads a service's data directory as an auditor would (read-only SQLite): which blobs it holds,
// and which records are armed (still hold a sealed blob, so not final yet).
import { join } from 'node:path';
import sqlite3 from 'sqlite3';

function query<T>(dataDir: string, sql: string, params: unknown[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(join(dataDir, 'relaystore.sqlite'), sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, params, (e, rows: T[]) => {
        db.close();
        if (e) reject(e);
        else resolve(rows);
      });
    });
  });
}

/** The sealed blob stored for `id`, or null once wiped (or never stored). */
export async function storedBlob(dataDir: string, id: string): Promise<Buffer | null> {
  const rows = await query<{ sealed: Buffer | null }>(dataDir, 'SELECT sealed FROM records WHERE id = ?', [Buffer.from(id, 'hex')]);
  return rows[0]?.sealed ?? null;
}

/** Ids (hex) of the records that still hold a sealed blob. */
export async function armedRecords(dataDir: string): Promise<string[]> {
  const rows = await query<{ id: string }>(dataDir, 'SELECT hex(id) AS id FROM records WHERE sealed IS NOT NULL', []);
  return rows.map((r) => r.id.toLowerCase());
}
