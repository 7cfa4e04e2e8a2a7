// Reads a service's data directory as an auditor would (read-only SQLite, and its files as bytes):
// which blobs it holds, which records are armed (still hold a sealed blob, so not final yet), and
// which files still hold given bytes (a wiped blob, or the key that opened it).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { atRest } from '../../src/store/at-rest.js';

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

interface AtRest {
  readonly stored: Buffer;
  readonly key: Buffer;
}

/** How each of `ids`' blobs is kept: encrypted (`stored`) under `key`; absent once wiped (or never stored). */
export async function blobsAtRest(dataDir: string, ids: readonly string[]): Promise<Map<string, AtRest>> {
  const kept = new Map<string, AtRest>();
  for (let k = 0; k < ids.length; k += 500) {
    const chunk = ids.slice(k, k + 500);
    const rows = await query<{ id: Buffer; sealed: Buffer | null; key: Buffer | null }>(
      dataDir,
      `SELECT r.id, r.sealed, k.key FROM records r JOIN blob_keys k ON k.slot = r.key_slot WHERE r.id IN (${chunk.map(() => '?').join(',')})`,
      chunk.map((id) => Buffer.from(id, 'hex')),
    );
    for (const row of rows) if (row.sealed && row.key) kept.set(row.id.toString('hex'), { stored: row.sealed, key: row.key });
  }
  return kept;
}

/** The sealed blob stored for `id`, as it was submitted, or null once wiped (or never stored). */
export async function storedBlob(dataDir: string, id: string): Promise<Buffer | null> {
  const kept = (await blobsAtRest(dataDir, [id])).get(id);
  return kept ? atRest(kept.key, kept.stored) : null;
}

/**
 * The files under `dir` (recursively) holding any of `needles`, as paths relative to it. Needles
 * longer than 32 bytes are looked for in 32-byte pieces: SQLite may split a blob over pages, or
 * leave only part of one behind.
 */
export async function filesHolding(dir: string, needles: readonly Buffer[]): Promise<string[]> {
  const find = pieceFinder(needles);
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path).catch(() => null); // a file may go while we look (the WAL)
    if (bytes && find(bytes)) found.push(path.slice(dir.length + 1));
  }
  return found;
}

/** One pass over a file for thousands of pieces: candidates by their first four bytes, then compared whole. */
function pieceFinder(needles: readonly Buffer[]): (bytes: Buffer) => boolean {
  const byHead = new Map<number, Buffer[]>();
  for (const n of needles) {
    for (let o = 0; o + Math.min(32, n.length) <= n.length; o += 32) {
      const piece = n.subarray(o, o + 32);
      if (piece.length < 4) continue;
      const list = byHead.get(piece.readUInt32LE(0)) ?? [];
      list.push(piece);
      byHead.set(piece.readUInt32LE(0), list);
    }
  }
  return (bytes) => {
    for (let i = 0; i + 4 <= bytes.length; i++) {
      const list = byHead.get(bytes.readUInt32LE(i));
      if (list?.some((p) => bytes.subarray(i, i + p.length).equals(p))) return true;
    }
    return false;
  };
}

/** Ids (hex) of the records that still hold a sealed blob. */
export async function armedRecords(dataDir: string): Promise<string[]> {
  const rows = await query<{ id: string }>(dataDir, 'SELECT hex(id) AS id FROM records WHERE sealed IS NOT NULL', []);
  return rows.map((r) => r.id.toLowerCase());
}
