// Receipts (SPEC §3) and cancel tokens: what the server signs and what it derives for a submitter.
import { createHmac, hash, sign, verify, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export function receiptMessage(id: string, locktime: number, sealedSha256Hex: string): string {
  return `relaystore receipt v1\n${id}\n${locktime}\n${sealedSha256Hex}`;
}

export function signReceipt(privateKey: KeyObject, id: string, locktime: number, sealedSha256Hex: string): string {
  return sign(null, Buffer.from(receiptMessage(id, locktime, sealedSha256Hex), 'utf8'), privateKey).toString('hex');
}

/** The same signature, computed on libuv's thread pool so that ingest does not sign on the event loop. */
export function signReceiptOffThread(privateKey: KeyObject, id: string, locktime: number, sealedSha256Hex: string): Promise<string> {
  return new Promise((resolve, reject) =>
    sign(null, Buffer.from(receiptMessage(id, locktime, sealedSha256Hex), 'utf8'), privateKey, (err, signature) =>
      err ? reject(err) : resolve(signature.toString('hex')),
    ),
  );
}

export function verifyReceipt(publicKeyHex: string, receiptHex: string, id: string, locktime: number, sealedSha256Hex: string): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKeyHex, 'hex').toString('base64url') }, format: 'jwk' });
  return verify(null, Buffer.from(receiptMessage(id, locktime, sealedSha256Hex), 'utf8'), key, Buffer.from(receiptHex, 'hex'));
}

/** A retry of the same blob must return the same token, so the token is derived, not stored. */
export function deriveToken(tokenSecret: Buffer, id: Buffer): Buffer {
  return createHmac('sha256', tokenSecret).update('relaystore cancel token v1\n').update(id).digest();
}

export function tokenHash(token: Buffer): Buffer {
  return hash('sha256', token, 'buffer');
}

export function tokenMatches(presented: Buffer, storedHash: Buffer): boolean {
  const hash = tokenHash(presented);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}
