// Blobs at rest (src/store/at-rest.ts) are ChaCha20 under a key of their own: the cipher is the
// one databases were written with (node:crypto's 'chacha20', zero IV), byte for byte, whatever computes it.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { createCipheriv } from 'node:crypto';
import { atRest, KEY_BYTES } from '../src/store/at-rest.js';

/** How blobs were encrypted before libsodium computed it: OpenSSL's ChaCha20, counter and nonce zero. */
function openssl(key: Buffer, bytes: Buffer): Buffer {
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(bytes), cipher.final()]);
}

testProp(
  'atRest gives node:crypto\'s ChaCha20 bytes (zero IV), and undoes itself',
  [fc.uint8Array({ minLength: KEY_BYTES, maxLength: KEY_BYTES }), fc.uint8Array({ maxLength: 4096 })],
  (t, key, bytes) => {
    const k = Buffer.from(key), b = Buffer.from(bytes);
    const stored = atRest(k, b);
    t.deepEqual(stored, openssl(k, b));
    t.deepEqual(atRest(k, stored), b);
  },
);

test('the RFC 8439 keystream for key 0, nonce 0, block 0 (appendix A.1, vector 1)', (t) => {
  const keystream = '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586';
  t.is(atRest(Buffer.alloc(KEY_BYTES), Buffer.alloc(64)).toString('hex'), keystream);
});
