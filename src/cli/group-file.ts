// What the receipts file says about a group: its current round, what is still live on which server,
// and what an interrupted or refused renewal left behind.
import type { GroupMember } from '../client/group.js';
import type { LocktimeType } from '../domain/locktime.js';
import { isReceipt, type Line, type ReceiptLine } from './receipts-file.js';

export interface GroupView {
  readonly id: string;
  /** The round armed now: the first submission, or the last renewal that reached every server. */
  readonly round: number;
  /** The current round's members, live or not. */
  readonly current: readonly GroupMember[];
  /** Members of other rounds still live: superseded ones not yet cancelled, or left by an unfinished renewal. */
  readonly leftovers: readonly (GroupMember & { readonly round: number })[];
  readonly lastRound: number;
  /** Recorded outcomes by member id: `cancelled` or a final status. */
  readonly done: ReadonlyMap<string, string>;
}

export function memberOf(line: ReceiptLine): GroupMember {
  return {
    server: line.server,
    ...(line.pin !== undefined ? { expectKey: line.pin } : {}),
    id: line.id,
    token: line.token,
    txid: line.txid,
    locktime: line.locktime,
    locktimeType: line.locktimeType as LocktimeType,
    receipt: line.receipt,
    receiptKey: line.receiptKey,
    keyId: line.keyId ?? '',
    sealedSha256: line.sealedSha256,
  };
}

/** Member id → what is known to have ended it (a cancellation or a final status). */
export function doneMembers(lines: readonly Line[]): Map<string, string> {
  const done = new Map<string, string>();
  for (const l of lines) {
    if (!('event' in l)) continue;
    if (l.event === 'cancelled') done.set(`${l.server} ${l.id}`, l.result);
    if (l.event === 'finished') done.set(`${l.server} ${l.id}`, l.status);
  }
  return done;
}

export function doneKey(m: { readonly server: string; readonly id: string }): string {
  return `${m.server} ${m.id}`;
}

export function groupView(lines: readonly Line[], id: string): GroupView | null {
  const receipts = lines.filter(isReceipt).filter((l) => l.group === id);
  if (receipts.length === 0) return null;
  const committed = lines.flatMap((l) => ('event' in l && l.event === 'renewed' && l.group === id ? [l.round] : []));
  const round = Math.max(0, ...committed);
  const done = doneMembers(lines);
  const unique = dedupe(receipts).sort((a, b) => a.server.localeCompare(b.server));
  const leftovers = unique.filter((l) => (l.round ?? 0) !== round && !done.has(doneKey(l))).map((l) => ({ ...memberOf(l), round: l.round ?? 0 }));
  return {
    id,
    round,
    current: unique.filter((l) => (l.round ?? 0) === round).map(memberOf),
    leftovers,
    lastRound: Math.max(...unique.map((l) => l.round ?? 0)),
    done,
  };
}

/** Every receipt not known to be cancelled or final: what `audit` asks about. One whose cancel met `not_found` stays: it may have been dropped. */
export function unfinished(lines: readonly Line[], group?: string): GroupMember[] {
  const done = doneMembers(lines);
  const receipts = dedupe(lines.filter(isReceipt)).filter((l) => group === undefined || l.group === group);
  const ended = (l: ReceiptLine) => {
    const outcome = done.get(doneKey(l));
    return outcome !== undefined && outcome !== 'not_found';
  };
  return receipts.filter((l) => !ended(l)).map(memberOf);
}

/** A retried submission of the same blob is recorded twice with the same id: keep one. */
function dedupe(receipts: readonly ReceiptLine[]): ReceiptLine[] {
  const byKey = new Map<string, ReceiptLine>();
  for (const r of receipts) byKey.set(doneKey(r), r);
  return [...byKey.values()];
}
