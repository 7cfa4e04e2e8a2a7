// `relaystore backup`: what a data directory needs to be restored, taken while the service runs, as
// one tar archive (mode 0600) that `tar -xf FILE -C NEWDIR` restores.
import { open, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Sqlite } from './sqlite.js';
import { DB_FILE } from './store.js';
import { KEY_FILE } from '../keys/keyring.js';
import { ONION_DIR } from '../tor/managed-tor.js';
import { tarStream, type TarEntry } from '../util/tar.js';
import { renameDurably } from '../util/durable-rename.js';

export interface BackupSummary {
  /** Paths inside the archive, as `tar -t` lists them. */
  readonly entries: readonly string[];
  readonly bytes: number;
}

/**
 * Writes the backup of `dataDir` to `to`, atomically and durably: a crash leaves the old file or the
 * new one, and once this resolves the new one survives a power loss.
 * The database first, through SQLite's online backup API (one consistent snapshot), then the keys:
 * keys.json only ever gains keys, so a copy read after the snapshot opens everything in it; the
 * onion service's keys, if tor is managed, keep the restored server at the same address.
 */
export async function backupDataDir(dataDir: string, to: string): Promise<BackupSummary> {
  const tmp = join(dirname(to), `.${basename(to)}.tmp-${process.pid}`);
  const snapshot = `${tmp}.sqlite`;
  try {
    await snapshotDatabase(join(dataDir, DB_FILE), snapshot);
    const entries = [{ kind: 'file', name: DB_FILE, mode: 0o600, path: snapshot } as const, ...(await keyEntries(dataDir))];
    const bytes = await writeArchive(tmp, entries);
    // The directory is fsync'd too: the backup reported made is there after a power loss.
    await renameDurably(tmp, to);
    return { entries: entries.map((e) => e.name), bytes };
  } finally {
    await rm(tmp, { force: true });
    await rm(snapshot, { force: true });
  }
}

async function snapshotDatabase(source: string, target: string): Promise<void> {
  // Read-write without create: a wrong --data-dir is an error, not a new empty database.
  const db = await Sqlite.open(source, 'existing');
  try {
    await db.exec('PRAGMA busy_timeout = 5000');
    await db.backupTo(target);
  } finally {
    await db.close();
  }
}

/** keys.json, and the onion service's directory when there is one. */
async function keyEntries(dataDir: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [{ kind: 'file', name: KEY_FILE, mode: 0o600, path: join(dataDir, KEY_FILE) }];
  const onion = await readdir(join(dataDir, ONION_DIR), { withFileTypes: true }).catch(() => []);
  if (onion.length === 0) return entries;
  entries.push({ kind: 'dir', name: dirname(ONION_DIR), mode: 0o700 }, { kind: 'dir', name: ONION_DIR, mode: 0o700 });
  for (const f of onion.filter((e) => e.isFile())) entries.push({ kind: 'file', name: join(ONION_DIR, f.name), mode: 0o600, path: join(dataDir, ONION_DIR, f.name) });
  return entries;
}

async function writeArchive(path: string, entries: readonly TarEntry[]): Promise<number> {
  const out = await open(path, 'wx', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of tarStream(entries)) {
      await out.write(chunk);
      bytes += chunk.length;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return bytes;
}
