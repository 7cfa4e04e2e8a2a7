// What a client does before anything leaves the machine: parse the transaction, pad (SPEC §2), seal to
// the server's key, and the request body. Browser-safe (no Node built-ins, no Buffer): web/page.ts bundles it.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { pad } from '../crypto/padding.js';
import { seal } from '../crypto/sealed-box.js';
// The server's own reader: what a client seals, the opener reads the same way.
import { isBundle, readTx } from '../domain/bundle.js';
import { locktimeType, type LocktimeType } from '../domain/locktime.js';
import type { SubmitRequest } from '../wire/submit-request.js';
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

/** Hex as a wallet gives it (either case, whitespace around it ignored), or BadTransactionError: "<what> is not hex". */
export function bytesOfHex(text: string, what: string): Uint8Array {
  const hex = text.trim();
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw new BadTransactionError(`${what} is not hex`);
  return hexToBytes(hex);
}

/** Accepts raw bytes or hex (whitespace around it is ignored, as pasted from a wallet). */
export function parseTransaction(tx: string | Uint8Array): ParsedTransaction {
  if (typeof tx === 'string' && tx.trim().length === 0) throw new BadTransactionError('no transaction given');
  const bytes = typeof tx === 'string' ? bytesOfHex(tx, 'the transaction') : tx;
  const reading = readTx(bytes);
  if (reading.kind === 'malformed') throw new BadTransactionError(reading.reason);
  if (isBundle(bytes)) throw new BadTransactionError('the transaction starts with "RSB1", which the server reads as a bundle (SPEC §2); no standard version is 826430290');
  const { txid, tx: { locktime } } = reading.parsed;
  return { bytes, txid, locktime, locktimeType: locktimeType(locktime) };
}

export function sealTransaction(publicKey: Uint8Array, tx: Plaintext): SealedTransaction {
  const sealed = seal(publicKey, pad(tx.bytes));
  const sealedSha256 = bytesToHex(sha256(sealed));
  return { ...tx, sealed, sealedSha256, id: sealedSha256.slice(0, 32) };
}

/** The body the client library, the page's script and the page's form all send for a sealed blob (no stamp yet). */
export function submitRequestOf(sealed: SealedTransaction, keyId: string | undefined, window: number | undefined): SubmitRequest {
  return {
    locktime: sealed.locktime,
    sealed: bytesToHex(sealed.sealed),
    ...(keyId !== undefined ? { keyId } : {}),
    ...(window !== undefined ? { window } : {}),
  };
}
