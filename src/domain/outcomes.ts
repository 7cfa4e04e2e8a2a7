// Expected outcomes as values. Exceptions are reserved for bugs and infrastructure failures.
import type { RecordView } from './record.js';

export interface SubmissionBody {
  id: string;
  token: string;
  status: RecordView['status'];
  locktime: number;
  locktimeType: RecordView['locktimeType'];
  receipt: string;
}

/** Client mistakes that SPEC §3 names; each maps to one HTTP status in http/errors.ts. */
export type RequestErrorCode =
  | 'invalid_json'
  | 'invalid_locktime'
  | 'invalid_sealed'
  | 'invalid_window'
  | 'unknown_key'
  | 'locktime_too_far'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'store_full'
  | 'unavailable'
  | 'not_found'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'already_broadcast'
  | 'already_final'
  | 'invalid_id'
  | 'internal_error';

export interface Refusal {
  readonly kind: 'refused';
  readonly code: RequestErrorCode;
  readonly message: string;
}

export function refuse(code: RequestErrorCode, message: string): Refusal {
  return { kind: 'refused', code, message };
}

export type SubmitOutcome =
  | { readonly kind: 'accepted'; readonly body: SubmissionBody }
  | { readonly kind: 'already_known'; readonly body: SubmissionBody }
  | Refusal;

export type CancelOutcome = { readonly kind: 'cancelled'; readonly id: string } | Refusal;

export type StatusOutcome = { readonly kind: 'found'; readonly view: RecordView } | Refusal;
