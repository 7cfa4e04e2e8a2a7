// Sealed blobs at rest (SPEC §8, wiped means unrecoverable): each blob is stored encrypted under a
// key of its own, kept in a fixed-size slot of `blob_keys` that a wipe overwrites with zeros.
import { randomBytes } from 'node:crypto';
import sodium from 'sodium-native';
import type { Param, Sqlite } from './sqlite.js';

export const KEY_BYTES = 32;
/** Nonce and counter 0: each key encrypts exactly one blob, once. */
const ZERO_NONCE = Buffer.alloc(12);
const ZERO_KEY = Buffer.alloc(KEY_BYTES);

/**
 * Encrypts or decrypts (one and the same for a stream cipher) a blob with its own key.
 * Why not store the blob itself: SQLite moves cells between pages when it rebalances a B-tree and
 * does not zero the space they left (secure_delete or not), so copies of a live blob can outlast
 * its wipe in a page's free space. A slot row never changes size, so SQLite rewrites it in place and
 * leaves no copy of a key behind; an old copy of an encrypted blob opens to nothing once its key is zeroed.
 * libsodium's IETF ChaCha20 at counter 0 is node:crypto's 'chacha20' with a zero IV byte for byte
 * (test/at-rest.test.ts), so blobs written either way open either way; setting up an OpenSSL cipher
 * object cost ~6 µs of the ~7 µs per blob on the event loop, libsodium's call ~1 µs.
 */
export function atRest(key: Buffer, bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  sodium.crypto_stream_chacha20_ietf_xor(out, bytes, ZERO_NONCE, key);
  return out;
}

/** `n` fresh keys, from one call to the random source. */
export function freshKeys(n: number): Buffer[] {
  const all = randomBytes(n * KEY_BYTES);
  return Array.from({ length: n }, (_, i) => all.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES));
}

/** The SQL of the key slots. */
export const keySql = {
  /** Writes keys into slots: a reused slot is overwritten in place (same size), a new one appended. */
  put: (n: number) => `INSERT INTO blob_keys (slot, key) VALUES ${Array(n).fill('(?,?)').join(',')} ON CONFLICT (slot) DO UPDATE SET key = excluded.key`,
  /** Zeroes the key of the record `id` while it is in one of `states`. Params: id, ...states. */
  wipe: (states: number) =>
    `UPDATE blob_keys SET key = zeroblob(${KEY_BYTES}) WHERE slot = (SELECT key_slot FROM records WHERE id = ? AND state IN (${Array(states).fill('?').join(',')})) RETURNING slot`,
  /** The key of a record's blob, as a column of a SELECT on records. */
  keyColumn: '(SELECT key FROM blob_keys WHERE slot = records.key_slot) AS blob_key',
} as const;

/** A taking of slots, with the keys to write into them and how to put it back if the write fails. */
export interface Taken {
  readonly slots: readonly number[];
  readonly keys: readonly Buffer[];
  undo(): void;
}

/**
 * Which slots are free (hold a zero key). Reused slots are taken first; new ones are numbered
 * upwards, so that they are always appended at the end of the table (never a rebalance that moves keys).
 */
export class KeySlots {
  private constructor(
    private readonly free: number[],
    private next: number,
  ) {}

  static async load(db: Sqlite): Promise<KeySlots> {
    const free = await db.all<{ slot: number }>('SELECT slot FROM blob_keys WHERE key = zeroblob(?)', [KEY_BYTES]);
    const top = await db.get<{ n: number | null }>('SELECT max(slot) AS n FROM blob_keys');
    return new KeySlots(
      free.map((r) => r.slot),
      (top?.n ?? 0) + 1,
    );
  }

  take(n: number): Taken {
    const reused = this.free.splice(Math.max(0, this.free.length - n));
    const first = this.next;
    this.next += n - reused.length;
    const fresh = Array.from({ length: n - reused.length }, (_, i) => first + i);
    return {
      slots: [...reused, ...fresh],
      keys: freshKeys(n),
      undo: () => {
        this.free.push(...reused);
        this.next = first;
      },
    };
  }

  /** Slots whose key was zeroed and committed. */
  give(slots: Iterable<number>): void {
    for (const s of slots) this.free.push(s);
  }
}

/**
 * Writes the keys of a taking: `used[i]` says whether slot i got its blob; the others get a zero
 * key (they exist, in order, and are free again). Returns the slots left free.
 */
export async function putKeys(db: Sqlite, taken: Taken, used: readonly boolean[]): Promise<number[]> {
  const params: Param[] = [];
  const unused: number[] = [];
  taken.slots.forEach((slot, i) => {
    params.push(slot, used[i] ? taken.keys[i]! : ZERO_KEY);
    if (!used[i]) unused.push(slot);
  });
  if (taken.slots.length > 0) await db.run(keySql.put(taken.slots.length), params);
  return unused;
}

/** Encrypts the blobs of a database written before blob keys existed, 500 at a time (at open); each batch owes, in its own transaction, the VACUUM that removes their old copies. */
export async function encryptLegacyBlobs(db: Sqlite, slots: KeySlots): Promise<number> {
  let converted = 0;
  for (;;) {
    const rows = await db.all<{ rowid: number; sealed: Buffer }>('SELECT rowid, sealed FROM records WHERE sealed IS NOT NULL AND key_slot IS NULL LIMIT 500');
    if (rows.length === 0) return converted;
    const taken = slots.take(rows.length);
    await db.exec('BEGIN IMMEDIATE');
    try {
      for (const [i, row] of rows.entries()) {
        await db.run('UPDATE records SET sealed = ?, key_slot = ? WHERE rowid = ?', [atRest(taken.keys[i]!, row.sealed), taken.slots[i]!, row.rowid]);
      }
      await putKeys(db, taken, rows.map(() => true));
      await db.run('INSERT OR IGNORE INTO vacuum_owed (one) VALUES (1)');
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      taken.undo();
      throw err;
    }
    converted += rows.length;
  }
}

/**
 * Rewrites the whole file (VACUUM) when migration 5 or a legacy batch owes it: until then old copies of
 * blobs stored as submitted stay in its free space. The debt is cleared only after the VACUUM, so a crash
 * (or a full disk) during it leaves it owed to the next open.
 */
export async function vacuumIfOwed(db: Sqlite): Promise<boolean> {
  if ((await db.get('SELECT one FROM vacuum_owed')) === undefined) return false;
  await db.exec('VACUUM');
  await db.run('DELETE FROM vacuum_owed');
  return true;
}
