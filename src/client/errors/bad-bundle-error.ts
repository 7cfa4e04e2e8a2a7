// A bundle the server would find `invalid` (SPEC §7), caught on the client before anything is
// sealed; `code` is the very code the server's opener would answer.
import type { OpeningCode } from '../../domain/bundle.js';
import { BadTransactionError } from './bad-transaction-error.js';

export class BadBundleError extends BadTransactionError {
  constructor(
    readonly code: OpeningCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'BadBundleError';
  }
}
