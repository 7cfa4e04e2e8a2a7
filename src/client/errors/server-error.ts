// The server refused the request with a SPEC §3 error (`code` is its stable snake_case code).
import { RelayStoreError } from './relaystore-error.js';

export class ServerError extends RelayStoreError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`server refused (${status} ${code}): ${message}`);
    this.name = 'ServerError';
  }
}
