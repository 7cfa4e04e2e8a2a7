// Expected outcomes as values. Exceptions are reserved for bugs and infrastructure failures.
import type { RecordStatus, SubmitAnswer } from '../wire/answers.js';
import type { ErrorCode } from '../wire/vocabulary.js';

/** A refused request, with its SPEC code; http/errors.ts maps each code to one HTTP status. */
export interface Refusal {
  readonly kind: 'refused';
  readonly code: ErrorCode;
  readonly message: string;
}

export function refuse(code: ErrorCode, message: string): Refusal {
  return { kind: 'refused', code, message };
}

export type SubmitOutcome =
  | { readonly kind: 'accepted'; readonly body: SubmitAnswer }
  | { readonly kind: 'already_known'; readonly body: SubmitAnswer }
  | Refusal;

export type CancelOutcome = { readonly kind: 'cancelled'; readonly id: string } | Refusal;

export type StatusOutcome = { readonly kind: 'found'; readonly view: RecordStatus } | Refusal;
