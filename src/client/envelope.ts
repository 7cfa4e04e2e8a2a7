// What a client does before anything leaves the machine: parse the transaction, take its
// locktime and txid, pad (SPEC §2) and seal to the server's key. Browser-safe (no Node built-ins,
// no Buffer): the page's script is bundled from this very file (web/page.ts).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
// Only the Transaction module: the package index pulls in payments, PSBT and address code that the
// page's bundle would carry for nothing (88 kB minified instead of 35 kB).
import { Transaction } from 'bitcoinjs-lib/src/transaction';
import { pad } from '../crypto/padding.js';
import { seal } from '../crypto/sealed-box.js';
import { isBundle } from '../domain/bundle.js';
import { locktimeType, type LocktimeType } from '../domain/locktime.js';
import { BadTransactionError } from './errors/bad-transaction-error.js';

/** What a client seals: a transaction, or anything else SPEC §2 allows in the plaintext (a §7 bundle),
 * with the locktime it declares in clear and the txid it reports (a bundle's first). */
export interface Plaintext {
  readonly bytes: Uint8Array;
  readonly txid: string;
  readonly locktime: number;
  readonly locktimeType: LocktimeType;
}

export type ParsedTransaction = Plaintext;

export interface SealedTransaction extends Plaintext {
  readonly sealed: Uint8Array;
  /** Hex SHA-256 of the sealed bytes: the id is its first 16 bytes, the receipt signs all of it. */
  readonly sealedSha256: string;
  readonly id: string;
}

/** Accepts raw bytes or hex (whitespace around it is ignored, as pasted from a wallet). */
export function parseTransaction(tx: string | Uint8Array): ParsedTransaction {
  let bytes: Uint8Array;
  if (typeof tx === 'string') {
    const hex = tx.trim();
    if (hex.length === 0) throw new BadTransactionError('no transaction given');
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw new BadTransactionError('the transaction is not hex');
    bytes = hexToBytes(hex);
  } else {
    bytes = tx;
  }
  let parsed: Transaction;
  try {
    parsed = Transaction.fromBuffer(bytes);
  } catch (err) {
    throw new BadTransactionError(`not a Bitcoin transaction: ${(err as Error).message}`, { cause: err });
  }
  if (parsed.ins.length === 0 || parsed.outs.length === 0) throw new BadTransactionError('a transaction needs at least one input and one output');
  // bitcoinjs-lib reads a count or length written wider than needed; Bitcoin Core and the opener do not.
  if (parsed.byteLength() !== bytes.length) throw new BadTransactionError('not a Bitcoin transaction: a count or length is not in its shortest encoding');
  if (isBundle(bytes)) throw new BadTransactionError('the transaction starts with "RSB1", which the server reads as a bundle (SPEC §2); no standard version is 826430290');
  return { bytes, txid: parsed.getId(), locktime: parsed.locktime, locktimeType: locktimeType(parsed.locktime) };
}

export function sealTransaction(publicKey: Uint8Array, tx: Plaintext): SealedTransaction {
  const sealed = seal(publicKey, pad(tx.bytes));
  const sealedSha256 = bytesToHex(sha256(sealed));
  return { ...tx, sealed, sealedSha256, id: sealedSha256.slice(0, 32) };
}
