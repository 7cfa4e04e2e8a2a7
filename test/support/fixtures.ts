// Loads the JSON fixture tables under test/fixtures (tests run from dist/test, fixtures stay in test/).
import { readFileSync } from 'node:fs';
import type { LocktimeType } from '../../src/wire/vocabulary.js';

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/**
 * test/fixtures/transactions.json: what a client must parse (txid, locktime) and what it must
 * refuse; each refusal names its error, the start of the BadTransactionError's message (after
 * "not a Bitcoin transaction: " comes bitcoinjs-lib's own reason where it is bitcoinjs-lib's).
 */
export interface TransactionFixtures {
  valid: Array<{ description: string; hex: string; txid: string; locktime: number; locktimeType: LocktimeType }>;
  invalid: Array<{ description: string; error: string; hex: string }>;
}

/** test/fixtures/sealing.json: blobs libsodium sealed to `key`, which must open to `plaintext`, and blobs that must not open. */
export interface SealingFixtures {
  key: { publicKey: string; secretKey: string };
  valid: Array<{ description: string; plaintext: string; sealed: string }>;
  invalid: Array<{ description: string; sealed: string }>;
}

/** test/fixtures/submit-requests.json: the body of POST /v1/transactions field by field; each invalid row names its error. */
export interface SubmitFixtures {
  limits: { maxSealedBytes: number; maxWindowSeconds: number };
  notAnObject: Array<{ description: string; body: unknown; error: string }>;
  fields: FieldRows[];
}
export interface FieldRows {
  name: string;
  /** The error when the field is left out; optional fields have none. */
  missing?: string;
  valid: unknown[];
  invalid: Array<{ description: string; value: unknown; error: string }>;
}

/** A value of submit-requests.json as JSON: {"hexBytes": N} and {"repeat": S, "times": N} written out. */
export function expand(value: unknown): unknown {
  const v = value as { hexBytes?: number; repeat?: string; times?: number } | null;
  if (typeof v?.hexBytes === 'number') return '5a'.repeat(v.hexBytes);
  if (typeof v?.repeat === 'string') return v.repeat.repeat(v.times ?? 1);
  return value;
}

/** test/fixtures/stamps.json (SPEC §8): stamps valid or not for `bits`, invalid rows naming why; `blobs` are the sealed blobs whose ids they use. */
export interface StampFixtures {
  blobs: Array<{ id: string; sealed: string }>;
  rows: Array<{ note: string; bits: number; id: string; locktime: number; nonce: string; valid: boolean; why?: 'malformed_nonce' | 'too_few_zero_bits' }>;
}

/** test/fixtures/ed25519.json (SPEC §3 receipts): RFC 8032 vectors and receipt rows, as hex; node:crypto and libsodium must both give them. */
export interface Ed25519Fixtures {
  vectors: Array<{ name: string; seed: string; publicKey: string; message: string; signature: string }>;
  receipts: Array<{ name: string; seed: string; publicKey: string; id: string; locktime: number; sealedSha256: string; signature: string }>;
}
