// Rename that survives a power loss: the new name is an entry of the directory, and it is on disk
// only once the directory itself is fsync'd (rename(2) alone leaves it in the page cache).
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Renames `from` to `to` (already fsync'd by the caller), then fsyncs the directory that holds `to`. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  const dir = await open(dirname(to), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
