// Opening one sealed record (SPEC §2, §4): decrypt, parse, check padding and the declared locktime.
// Pure and synchronous so that it runs the same in the worker and in fixture tests.
import { Transaction } from 'bitcoinjs-lib';
import { openSealed } from '../crypto/sealed-box.js';
import { isZeroTail } from '../crypto/padding.js';
import type { InvalidCode } from '../domain/record.js';

export type OpenResult =
  | { readonly kind: 'opened'; readonly txid: string; readonly raw: Uint8Array }
  | { readonly kind: 'invalid'; readonly code: InvalidCode };

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export function openTransaction(sealed: Uint8Array, key: KeyPair | undefined, declaredLocktime: number): OpenResult {
  if (!key) return { kind: 'invalid', code: 'undecryptable' };
  const plaintext = openSealed(sealed, key.publicKey, key.secretKey);
  if (plaintext === null) return { kind: 'invalid', code: 'undecryptable' };
  let tx: Transaction;
  try {
    // Non-strict: the padding follows the transaction; we check it ourselves below.
    tx = Transaction.fromBuffer(Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength), true);
  } catch {
    return { kind: 'invalid', code: 'malformed_transaction' };
  }
  if (tx.ins.length === 0 || tx.outs.length === 0) return { kind: 'invalid', code: 'malformed_transaction' };
  const length = tx.byteLength();
  if (length > plaintext.length) return { kind: 'invalid', code: 'malformed_transaction' };
  if (!isZeroTail(plaintext, length)) return { kind: 'invalid', code: 'bad_padding' };
  if (tx.locktime !== declaredLocktime) return { kind: 'invalid', code: 'locktime_mismatch' };
  return { kind: 'opened', txid: tx.getId(), raw: plaintext.slice(0, length) };
}
