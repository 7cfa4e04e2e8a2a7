// The transaction handed to the client is not one: not hex, not a parsable Bitcoin transaction.
import { RelayStoreError } from './relaystore-error.js';

export class BadTransactionError extends RelayStoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BadTransactionError';
  }
}
