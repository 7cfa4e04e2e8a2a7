// The server's sealing key is not the pinned one (`expectKey`): nothing was sealed or sent.
import { RelayStoreError } from './relaystore-error.js';

export class KeyMismatchError extends RelayStoreError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the server's sealing key is ${actual}, not the expected ${expected}; nothing was sent`);
    this.name = 'KeyMismatchError';
  }
}
