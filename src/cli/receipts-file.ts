// The client's receipts file: a JSON line per accepted submission (id, token, txid, receipt, group)
// and per event (cancelled, final state seen, renewal committed); append-only, fsync'd, 0600.
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
  /** The sealing key it was sealed to (absent in lines written before groups existed). */
  readonly keyId?: string;
  /** The local group id; `round` counts its renewals (0: the first submission). */
  readonly group?: string;
  readonly round?: number;
  /** The key the user pinned for this server, reused when the group is renewed. */
  readonly pin?: string;
}

export type EventLine =
  /** Nothing is left to cancel there: cancelled, or it already left / never will leave that server, or the server does not know it. */
  | { readonly event: 'cancelled'; readonly server: string; readonly id: string; readonly result: string }
  /** A final state (or `gone`: unknown after maturity) was seen: nothing to follow or audit any more. */
  | { readonly event: 'finished'; readonly server: string; readonly id: string; readonly status: string }
  /** Every server of the group holds round `round`: it is the group's current transaction. */
  | { readonly event: 'renewed'; readonly group: string; readonly round: number };

export type Line = ReceiptLine | EventLine;

export function defaultReceiptsFile(): string {
  return join(homedir(), '.relaystore', 'receipts.jsonl');
}

export function receiptLine(server: string, s: Omit<Submission, 'alreadyKnown'>, extra: Pick<ReceiptLine, 'group' | 'round' | 'pin'> = {}): ReceiptLine {
  const { id, token, txid, locktime, locktimeType, receipt, receiptKey, sealedSha256, keyId, rungs } = s;
  return { server, id, token, txid, locktime, locktimeType, receipt, receiptKey, sealedSha256, keyId, ...(rungs ? { rungs } : {}), ...extra };
}

export async function appendReceipt(file: string, server: string, s: Submission, extra: Pick<ReceiptLine, 'group' | 'round' | 'pin'> = {}): Promise<void> {
  await appendLines(file, [receiptLine(server, s, extra)]);
}

export async function appendLines(file: string, lines: readonly Line[]): Promise<void> {
  if (lines.length === 0) return;
  // Only the user may read it: the tokens in it cancel, and losing them loses the dead man's switch.
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, lines.map((l) => JSON.stringify(l) + '\n').join(''), { mode: 0o600 });
  // The token must survive a crash of this machine right after the server accepted it.
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every readable line; a missing file is simply empty, and a torn last line (crash while appending) does not hide the lines before it. */
export async function readLines(file: string): Promise<Line[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    try {
      lines.push(JSON.parse(raw) as Line);
    } catch {
      // torn line
    }
  }
  return lines;
}

export function isReceipt(line: Line): line is ReceiptLine {
  return !('event' in line) && typeof (line as ReceiptLine).token === 'string';
}

/** The most recent receipt line for `id`, or null. */
export async function findReceipt(file: string, id: string): Promise<ReceiptLine | null> {
  return (await readLines(file)).filter(isReceipt).filter((l) => l.id === id).at(-1) ?? null;
}
