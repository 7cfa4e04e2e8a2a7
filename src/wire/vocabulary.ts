// The closed word lists of the wire contract (SPEC §3, §7, §8): networks, statuses, error codes.
// Each is a JSON Schema enum; its TypeScript union is derived from it. No node-only imports.
import Type, { type Static } from 'typebox';

export const Network = Type.Enum(['bitcoin', 'testnet', 'testnet4', 'signet', 'regtest']);
export type Network = Static<typeof Network>;

export const LocktimeType = Type.Enum(['height', 'time'], {
  description: 'height below 500000000, otherwise a UNIX time',
});
export type LocktimeType = Static<typeof LocktimeType>;

/** Statuses after which nothing changes any more (the blob is wiped or was never usable). */
const FINAL = ['confirmed', 'cancelled', 'invalid', 'rejected'] as const;

export const Status = Type.Enum(['pending', 'broadcasting', 'broadcast', ...FINAL], {
  description:
    'pending: sealed, waiting for maturity and its window; broadcasting: opened, being sent; broadcast: accepted by an explorer; ' +
    'confirmed: at the configured depth; cancelled; invalid: could not be opened or not as declared; rejected: refused by the network',
});
export type Status = Static<typeof Status>;

export const FINAL_STATUSES: ReadonlySet<Status> = new Set(FINAL);

/** Why a record is `invalid` (SPEC §3; bundles, §7). */
export const InvalidCode = Type.Enum([
  'undecryptable',
  'malformed_transaction',
  'locktime_mismatch',
  'bad_padding',
  'bad_bundle',
  'rungs_not_conflicting',
]);
export type InvalidCode = Static<typeof InvalidCode>;

/** Why the network refused a record for good (`rejected`). */
export const RejectedCode = Type.Enum(['inputs_missing_or_spent', 'invalid_transaction']);
export type RejectedCode = Static<typeof RejectedCode>;

/** A record's `error.code`: a record's own fate, not a refused request. */
export const RecordErrorCode = Type.Enum([...InvalidCode.enum, ...RejectedCode.enum]);
export type RecordErrorCode = Static<typeof RecordErrorCode>;

/** The `error.code` of every refused request; http/errors.ts gives each its HTTP status. */
export const ErrorCode = Type.Enum([
  'invalid_json',
  'invalid_locktime',
  'invalid_sealed',
  'invalid_window',
  'unknown_key',
  'locktime_too_far',
  'stamp_required',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'already_broadcast',
  'already_final',
  'payload_too_large',
  'unsupported_media_type',
  'internal_error',
  'store_full',
  'unavailable',
]);
export type ErrorCode = Static<typeof ErrorCode>;
