// libsodium crypto_box_seal / crypto_box_seal_open, byte for byte, on tweetnacl + BLAKE2b.
// Layout: ephemeralPublicKey(32) || box(m, nonce, recipientPk, ephemeralSk), nonce = BLAKE2b-192(epk || pk).
import nacl from 'tweetnacl';
import { blake2b } from '@noble/hashes/blake2.js';

export const SEAL_OVERHEAD = nacl.box.publicKeyLength + nacl.box.overheadLength; // 48

function sealNonce(ephemeralPublicKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const input = new Uint8Array(64);
  input.set(ephemeralPublicKey, 0);
  input.set(recipientPublicKey, 32);
  return blake2b(input, { dkLen: nacl.box.nonceLength });
}

export function seal(recipientPublicKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (recipientPublicKey.length !== nacl.box.publicKeyLength) throw new TypeError('public key must be 32 bytes');
  const ephemeral = nacl.box.keyPair();
  const nonce = sealNonce(ephemeral.publicKey, recipientPublicKey);
  const boxed = nacl.box(plaintext, nonce, recipientPublicKey, ephemeral.secretKey);
  ephemeral.secretKey.fill(0);
  const out = new Uint8Array(32 + boxed.length);
  out.set(ephemeral.publicKey, 0);
  out.set(boxed, 32);
  return out;
}

/** Returns the plaintext, or null when the blob was not sealed to this key pair (or was altered). */
export function openSealed(sealed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
  if (sealed.length < SEAL_OVERHEAD) return null;
  const epk = sealed.subarray(0, 32);
  const nonce = sealNonce(epk, publicKey);
  return nacl.box.open(sealed.subarray(32), nonce, epk, secretKey);
}
