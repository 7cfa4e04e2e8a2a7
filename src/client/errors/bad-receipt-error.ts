// The receipt's Ed25519 signature does not verify: the submission must not be counted as accepted.
import { RelayStoreError } from './relaystore-error.js';

export class BadReceiptError extends RelayStoreError {
  constructor(readonly id: string) {
    super(`the receipt for ${id} does not verify against the server's receipt key`);
    this.name = 'BadReceiptError';
  }
}
