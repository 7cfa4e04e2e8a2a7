// The one place where outcomes become HTTP: status codes and the SPEC §3 error body.
import type { ErrorBody } from '../wire/answers.js';
import type { ErrorCode } from '../wire/vocabulary.js';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_locktime: 400,
  invalid_sealed: 400,
  invalid_window: 400,
  unknown_key: 400,
  locktime_too_far: 400,
  stamp_required: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  already_broadcast: 409,
  already_final: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  store_full: 503,
  unavailable: 503,
};

/** The page's answers: the API's, and one of its own (it reads a transaction in clear, which the API never does). */
export const PAGE_STATUS: Record<ErrorCode | 'invalid_transaction', number> = { ...HTTP_STATUS, invalid_transaction: 400 };

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Thrown inside the HTTP layer only, to leave a handler early with a SPEC error. */
export class HttpRefusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

/**
 * Thrown inside the HTTP layer when the client went away (aborted) or stalled past a timeout: an
 * everyday event on a public onion, counted in the summary, never answered and never an error.
 */
export class ClientGone extends Error {
  constructor(readonly reason: 'aborted' | 'timeout') {
    super(`client ${reason}`);
    this.name = 'ClientGone';
  }
}

const GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/** Whether a socket or stream error only says that the client is gone. */
export function isClientGone(err: unknown): boolean {
  if (err instanceof ClientGone) return true;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return (typeof code === 'string' && GONE_CODES.has(code)) || (err instanceof Error && err.message === 'aborted');
}
