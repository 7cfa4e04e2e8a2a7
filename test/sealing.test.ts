// SPEC §2: sealed blobs are libsodium crypto_box_seal, byte for byte, in both directions.
import test from 'ava';
import sodium from 'libsodium-wrappers';
import nacl from 'tweetnacl';
import { openSealed, seal, SEAL_OVERHEAD } from '../src/crypto/sealed-box.js';
import { pad, paddedLength, firstNonZero } from '../src/crypto/padding.js';
import { fixture, type SealingFixtures } from './support/fixtures.js';
const f = fixture<SealingFixtures>('sealing.json');
const pk = Buffer.from(f.key.publicKey, 'hex');
const sk = Buffer.from(f.key.secretKey, 'hex');

for (const v of f.valid) {
  test(`opens a blob libsodium sealed: ${v.description}`, (t) => {
    const opened = openSealed(Buffer.from(v.sealed, 'hex'), pk, sk);
    t.not(opened, null);
    t.is(Buffer.from(opened!).toString('hex'), v.plaintext);
  });
}

for (const v of f.invalid) {
  test(`refuses to open: ${v.description}`, (t) => {
    t.is(openSealed(Buffer.from(v.sealed, 'hex'), pk, sk), null);
  });
}

test('what we seal, libsodium opens (live cross-check)', async (t) => {
  await sodium.ready;
  const kp = sodium.crypto_box_keypair();
  for (const size of [0, 1, 60, 511, 512, 4096]) {
    const plaintext = nacl.randomBytes(size);
    const sealed = seal(kp.publicKey, plaintext);
    t.is(sealed.length, size + SEAL_OVERHEAD);
    const opened = sodium.crypto_box_seal_open(sealed, kp.publicKey, kp.privateKey);
    t.deepEqual(Buffer.from(opened), Buffer.from(plaintext));
  }
});

test('what libsodium seals, we open (live cross-check)', async (t) => {
  await sodium.ready;
  const kp = nacl.box.keyPair();
  for (const size of [0, 100, 512, 1024]) {
    const plaintext = nacl.randomBytes(size);
    const opened = openSealed(sodium.crypto_box_seal(plaintext, kp.publicKey), kp.publicKey, kp.secretKey);
    t.deepEqual(Buffer.from(opened!), Buffer.from(plaintext));
  }
});

test('every seal uses a fresh ephemeral key', (t) => {
  const a = seal(pk, new Uint8Array(10));
  const b = seal(pk, new Uint8Array(10));
  t.notDeepEqual(Buffer.from(a.subarray(0, 32)), Buffer.from(b.subarray(0, 32)));
});

const PADDING: Array<[number, number]> = [
  [0, 512],
  [60, 512],
  [512, 512],
  [513, 1024],
  [1024, 1024],
  [1025, 2048],
  [70_000, 131_072],
];
for (const [txLength, expected] of PADDING) {
  test(`pads a ${txLength}-byte transaction to ${expected} bytes`, (t) => {
    t.is(paddedLength(txLength), expected);
    const tx = new Uint8Array(txLength).fill(0xab);
    const padded = pad(tx);
    t.is(padded.length, expected);
    t.is(firstNonZero(padded, txLength), -1);
  });
}

test('a non-zero byte anywhere after the transaction is not padding', (t) => {
  const padded = pad(new Uint8Array(100).fill(1));
  t.is(firstNonZero(padded, 100), -1);
  padded[511] = 1;
  t.is(firstNonZero(padded, 100), 511);
});
