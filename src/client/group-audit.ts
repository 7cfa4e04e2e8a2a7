// Holding an operator to its receipts: a record it signed for must stay answerable, with the signed
// locktime, at least until it could have been broadcast, confirmed and purged.
import type { RecordStatus } from '../wire/answers.js';
import type { GroupMember } from './group.js';
import { isMature, type Tip } from '../domain/locktime.js';
import { receiptMessage, verifyReceipt } from '../keys/receipts.js';
import { BadReceiptError } from './errors/bad-receipt-error.js';
import { ServerError } from './errors/server-error.js';

/** A receipt anyone can check: `signature` is Ed25519 by `receiptKey` over `message` (SPEC §3). */
export interface Evidence {
  readonly server: string;
  readonly id: string;
  readonly locktime: number;
  readonly sealedSha256: string;
  readonly receiptKey: string;
  readonly signature: string;
  readonly message: string;
  /** The receipt key the server shows now, when it answered /v1/info; another one than `receiptKey` means another key pair (a lost or replaced data directory). */
  readonly receiptKeyNow: string | null;
}

export type AuditFinding =
  /** Still known, with the locktime it signed for. */
  | { readonly kind: 'kept'; readonly member: GroupMember; readonly status: RecordStatus }
  /** Answers `not_found` for a record that cannot have finished and been purged yet: it was dropped. */
  | { readonly kind: 'dropped'; readonly member: GroupMember; readonly evidence: Evidence }
  /** Reports another locktime than the one it signed for. */
  | { readonly kind: 'altered'; readonly member: GroupMember; readonly evidence: Evidence; readonly answered: number }
  /** `not_found` after maturity: it may have been confirmed and then purged (retention), so it proves nothing. */
  | { readonly kind: 'gone'; readonly member: GroupMember }
  /** Not reached, or no proper answer; or our own receipt does not verify, which proves nothing against anyone. */
  | { readonly kind: 'failed'; readonly member: GroupMember; readonly error: Error };

/**
 * The lowest tip any server reports. A server that claims a higher tip (to excuse a missing record as
 * matured) gains nothing from it, and one that claims a lower one only makes its own records look younger.
 */
export function lowestTip(tips: ReadonlyArray<Tip | null>): Tip | null {
  let low: Tip | null = null;
  for (const t of tips) {
    if (t === null) continue;
    low = low === null ? t : { height: Math.min(low.height, t.height), hash: '', medianTime: Math.min(low.medianTime, t.medianTime) };
  }
  return low;
}

export function evidenceOf(member: GroupMember, receiptKeyNow: string | null): Evidence | null {
  const { server, id, locktime, sealedSha256, receiptKey, receipt } = member;
  if (!verifyReceipt(receiptKey, receipt, id, locktime, sealedSha256)) return null;
  return { server, id, locktime, sealedSha256, receiptKey, signature: receipt, message: receiptMessage(id, locktime, sealedSha256), receiptKeyNow };
}

export async function auditMember(member: GroupMember, status: () => Promise<RecordStatus>, tip: Tip | null, receiptKeyNow: string | null): Promise<AuditFinding> {
  const evidence = evidenceOf(member, receiptKeyNow);
  if (evidence === null) return { kind: 'failed', member, error: new BadReceiptError(member.id) };
  let answer: RecordStatus;
  try {
    answer = await status();
  } catch (err) {
    const notFound = err instanceof ServerError && err.code === 'not_found';
    if (!notFound) return { kind: 'failed', member, error: err instanceof Error ? err : new Error(String(err)) };
    return tip === null || isMature(member.locktime, tip) ? { kind: 'gone', member } : { kind: 'dropped', member, evidence };
  }
  if (answer.locktime !== member.locktime) return { kind: 'altered', member, evidence, answered: answer.locktime };
  return { kind: 'kept', member, status: answer };
}
