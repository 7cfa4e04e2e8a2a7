// The client's receipts file: one JSON line per submission (id, token, txid, receipt), because
// losing the cancel token loses the dead man's switch. Only the user can read it (0600 in a 0700 directory).
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Submission } from '../client/client.js';

export interface ReceiptLine {
  readonly server: string;
  readonly id: string;
  readonly token: string;
  readonly txid: string;
  readonly locktime: number;
  readonly locktimeType: string;
  readonly receipt: string;
  readonly receiptKey: string;
  readonly sealedSha256: string;
  /** A bundle's rungs, cheapest first (SPEC §7): fee in satoshis, fee rate in sat/vB, txids parents first. */
  readonly rungs?: Submission['rungs'];
}

export function defaultReceiptsFile(): string {
  return join(homedir(), '.relaystore', 'receipts.jsonl');
}

export async function appendReceipt(file: string, server: string, s: Submission): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const line: ReceiptLine = { server, id: s.id, token: s.token, txid: s.txid, locktime: s.locktime, locktimeType: s.locktimeType, receipt: s.receipt, receiptKey: s.receiptKey, sealedSha256: s.sealedSha256, ...(s.rungs ? { rungs: s.rungs } : {}) };
  await appendFile(file, JSON.stringify(line) + '\n', { mode: 0o600 });
  // The token must survive a crash of this machine right after the server accepted it.
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The most recent line for `id`, or null (a missing file is simply empty). */
export async function findReceipt(file: string, id: string): Promise<ReceiptLine | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let found: ReceiptLine | null = null;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    try {
      const line = JSON.parse(raw) as ReceiptLine;
      if (line.id === id) found = line;
    } catch {
      // A torn last line (crash while appending) must not hide the lines before it.
    }
  }
  return found;
}
