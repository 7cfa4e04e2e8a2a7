// The server could not be reached (Tor not running, onion not published yet, timeout). Nothing
// was stored unless a retry of the same sealed blob later answers 200.
import { RelayStoreError } from './relaystore-error.js';

export class UnreachableError extends RelayStoreError {
  constructor(
    readonly server: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach ${server}: ${reason}`, options);
    this.name = 'UnreachableError';
  }
}
