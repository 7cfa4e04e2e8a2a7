// What an opened plaintext holds (SPEC §2, §7): one transaction followed by zero padding, or an
// RSB1 bundle; either way a Ladder for the rest of the system. Browser-safe, like bundle.ts.
import { Transaction } from 'bitcoinjs-lib/src/transaction';
import { decodeBundle, invalid, isBundle, ladderTxOf, paddingFault, parseTx, type LadderResult } from './bundle.js';

export function readPlaintext(plaintext: Uint8Array, declaredLocktime: number): LadderResult {
  return isBundle(plaintext) ? decodeBundle(plaintext, declaredLocktime) : readBareTransaction(plaintext, declaredLocktime);
}

/** A bare transaction: a ladder of one rung of one transaction whose fee the server does not know. */
function readBareTransaction(plaintext: Uint8Array, declaredLocktime: number): LadderResult {
  const length = bareLength(plaintext);
  const parsed = length === null ? null : parseTx(plaintext.subarray(0, length));
  if (length === null || !parsed) return invalid('malformed_transaction', 'the plaintext is not a serialized transaction');
  const badPadding = paddingFault(plaintext, length, 'transaction');
  if (badPadding) return badPadding;
  if (parsed.tx.locktime !== declaredLocktime) return invalid('locktime_mismatch', `nLockTime ${parsed.tx.locktime} is not the declared ${declaredLocktime}`);
  const rung = { fee: null, vsize: parsed.vsize, feeRate: null, txs: [ladderTxOf(parsed)] };
  return { kind: 'ok', ladder: { kind: 'tx', rungs: [rung] } };
}

/** The transaction's own length, read leniently because the padding follows it; null if none parses. */
function bareLength(plaintext: Uint8Array): number | null {
  try {
    return Transaction.fromBuffer(plaintext, true).byteLength();
  } catch {
    return null;
  }
}
