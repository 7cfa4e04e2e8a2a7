// A stored submission and its state machine. Internal states are finer than the API's `status`
// (a record waiting out its random window is still `pending` to the outside).
import { locktimeType } from './locktime.js';
import type { RecordStatus } from '../wire/answers.js';
import type { RecordErrorCode, Status } from '../wire/vocabulary.js';

export const State = {
  /** Sealed, waiting for maturity; wake = locktime. */
  Pending: 1,
  /** Mature, waiting for its random moment in the window; wake = release time (s). */
  Windowed: 2,
  /** Opened; being sent or waiting to retry; wake = next attempt (s). */
  Broadcasting: 3,
  /** Accepted by an explorer; wake = next status check (s). */
  Broadcast: 4,
  Confirmed: 5,
  Cancelled: 6,
  Invalid: 7,
  Rejected: 8,
} as const;
export type State = (typeof State)[keyof typeof State];

export const TERMINAL_STATES: readonly State[] = [State.Confirmed, State.Cancelled, State.Invalid, State.Rejected];

export function statusOf(state: State): Status {
  switch (state) {
    case State.Pending:
    case State.Windowed:
      return 'pending';
    case State.Broadcasting:
      return 'broadcasting';
    case State.Broadcast:
      return 'broadcast';
    case State.Confirmed:
      return 'confirmed';
    case State.Cancelled:
      return 'cancelled';
    case State.Invalid:
      return 'invalid';
    case State.Rejected:
      return 'rejected';
  }
}

export const ERROR_MESSAGES: Record<RecordErrorCode, string> = {
  undecryptable: 'the sealed blob could not be opened with the key it names',
  malformed_transaction: 'the opened blob is not a serialized Bitcoin transaction',
  locktime_mismatch: "the transaction's nLockTime differs from the declared locktime",
  bad_padding: 'a non-zero byte follows the transaction',
  bad_bundle: 'the bundle breaks its layout or order (SPEC §7)',
  rungs_not_conflicting: 'two rungs of the bundle spend no common outpoint through different transactions, so both could confirm',
  inputs_missing_or_spent: 'the network reports its inputs as missing or already spent',
  invalid_transaction: 'the network refused the transaction as invalid',
};

export interface StoredRecord {
  readonly id: string;
  readonly keyId: string;
  readonly locktime: number;
  readonly window: number;
  readonly state: State;
  readonly wake: number;
  readonly sealed: Buffer | null;
  readonly tokenHash: Buffer;
  readonly txid: string | null;
  readonly attempts: number;
  readonly broadcastAt: number | null;
  readonly confirmations: number | null;
  readonly errorCode: string | null;
  /** Tip height at which the network last said non-final: retry only past it. */
  readonly holdHeight: number | null;
  /** How many rungs the opened bundle holds (SPEC §7); null for a bare transaction. */
  readonly rungs: number | null;
  /**
   * The scheduler's place on the ladder: the rung being sent, or to be sent next (never below one
   * refused for its fee). Null until a fee refusal or an acceptance fixes it. The status shows the
   * rung of `sent` instead (shownRung).
   */
  readonly rung: number | null;
  /** That rung's fee rate as declared, in sat/vB (null for a bare transaction). */
  readonly feeRate: number | null;
  /** That rung's transactions, parents first. */
  readonly txids: readonly string[] | null;
  /** Tip height when that rung was first accepted: the fee bump counts blocks from here. */
  readonly sentHeight: number | null;
  /** Every rung accepted so far, the last accepted last: tracking follows each until one confirms. */
  readonly sent: readonly SentRung[];
}

/**
 * A rung that went out: an explorer took it (or one of the bundle's own transactions that spends its
 * inputs was known). Tracking follows `txid`, the rung's last transaction: the child that pays, the
 * one unique to the rung when rungs share a parent, whose confirmation carries its parents'. Records
 * stored before fee rate and txids were kept here have rung and txid only.
 */
export interface SentRung {
  readonly rung: number;
  readonly txid: string;
  readonly feeRate?: number | null;
  readonly txids?: readonly string[];
}

/** What the scheduler's due-queries return: the record without its blob, fetched only to open it. */
export type DueRecord = Omit<StoredRecord, 'sealed' | 'tokenHash'>;

export function viewOf(r: StoredRecord): RecordStatus {
  const view: RecordStatus = { id: r.id, status: statusOf(r.state), locktime: r.locktime, locktimeType: locktimeType(r.locktime) };
  if (r.txid) view.txid = r.txid;
  if (r.broadcastAt !== null) view.broadcastAt = r.broadcastAt;
  if (r.confirmations !== null && (r.state === State.Broadcast || r.state === State.Confirmed)) view.confirmations = r.confirmations;
  if (r.errorCode) view.error = recordError(r.errorCode as RecordErrorCode);
  return r.rungs === null ? view : { ...view, ...bundleView(r) };
}

/** SPEC §3 for a bundle: how many rungs, and the rung shown (none before the first send), all its fields from it. */
function bundleView(r: StoredRecord): Pick<RecordStatus, 'rungs' | 'rung' | 'feeRate' | 'txids' | 'txid'> {
  const shown = shownRung(r);
  if (!shown) return { rungs: r.rungs! };
  const { entry, txid } = shown;
  const feeRate = entry.feeRate ?? null;
  return { rungs: r.rungs!, rung: entry.rung, ...(feeRate === null ? {} : { feeRate: Math.round(feeRate * 1000) / 1000 }), txids: [...(entry.txids ?? [entry.txid])], txid };
}

/**
 * The rung a bundle's status shows (SPEC §3) and its txid. "Sent" means an explorer took it: before
 * that, none. Once one of the followed transactions has confirmed, that rung, and the txid is the
 * transaction that confirmed (its child: with rungs sharing a parent, the parent would not say which
 * alternative confirmed); until then the rung last sent, and the txid is its first transaction.
 */
export function shownRung(r: DueRecord): { readonly entry: SentRung; readonly txid: string } | null {
  const confirmed = (r.confirmations ?? 0) > 0 ? r.sent.find((s) => s.txid === r.txid) : undefined;
  if (confirmed) return { entry: confirmed, txid: confirmed.txid };
  const last = r.sent[r.sent.length - 1];
  return last ? { entry: last, txid: last.txids?.[0] ?? last.txid } : null;
}

/** The store keeps the code as text; only the scheduler writes it, from InvalidCode and RejectedCode. */
function recordError(code: RecordErrorCode): RecordStatus['error'] {
  return { code, message: ERROR_MESSAGES[code] ?? code };
}
