// The server answered something the SPEC does not allow (not JSON, missing fields, a different id
// than the blob's): the answer cannot be trusted.
import { RelayStoreError } from './relaystore-error.js';

export class BadResponseError extends RelayStoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BadResponseError';
  }
}
