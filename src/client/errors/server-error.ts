// The server refused the request with a SPEC §3 error: `code` is one of the contract's stable codes.
import type { ErrorCode } from '../../wire/vocabulary.js';
import { RelayStoreError } from './relaystore-error.js';

export class ServerError extends RelayStoreError {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`server refused (${status} ${code}): ${message}`);
    this.name = 'ServerError';
  }
}
