// Opening one sealed record (SPEC §2, §4, §7): decrypt, then read the plaintext (one transaction or
// a bundle) into a Ladder. Pure and synchronous so that it runs the same in the worker and in fixture tests.
import { openSealed } from '../crypto/sealed-box.js';
import { readPlaintext } from '../domain/plaintext.js';
import type { Ladder } from '../domain/bundle.js';
import type { InvalidCode } from '../wire/vocabulary.js';

/** `ladder` holds raw transactions: it lives in memory only, never on disk or in a log. */
export type OpenResult =
  | { readonly kind: 'opened'; readonly ladder: Ladder }
  | { readonly kind: 'invalid'; readonly code: InvalidCode };

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export function openTransaction(sealed: Uint8Array, key: KeyPair | undefined, declaredLocktime: number): OpenResult {
  if (!key) return { kind: 'invalid', code: 'undecryptable' };
  const plaintext = openSealed(sealed, key.publicKey, key.secretKey);
  if (plaintext === null) return { kind: 'invalid', code: 'undecryptable' };
  const read = readPlaintext(plaintext, declaredLocktime);
  // The detail names rungs and txids: useful to a client, kept out of the server's records and logs.
  return read.kind === 'ok' ? { kind: 'opened', ladder: read.ladder } : { kind: 'invalid', code: read.code };
}
