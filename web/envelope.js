// SPEC §2 in the browser: parse a serialized transaction (its end, nLockTime and txid), pad it,
// and seal it to the server's key. No DOM here, so the tests can run it against the fixture tables.
import { blake2b } from './noble/blake2.js';
import { sha256 } from './noble/sha2.js';

// tweetnacl is loaded before this module as a classic script (it is not an ES module).
const nacl = globalThis.nacl;

export function hexToBytes(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error('the transaction is not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Walks the serialization (legacy or segwit) to find its end, its nLockTime and its txid.
export function parseTransaction(bytes) {
  let at = 0;
  const need = (n) => {
    if (at + n > bytes.length) throw new Error('not a Bitcoin transaction (it ends too early)');
  };
  const varint = () => {
    need(1);
    const first = bytes[at++];
    if (first < 0xfd) return first;
    const size = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    need(size);
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + bytes[at + i];
    at += size;
    return value;
  };
  const skip = (n) => {
    need(n);
    at += n;
  };
  skip(4);
  const segwit = bytes[4] === 0x00 && bytes[5] === 0x01;
  if (segwit) at += 2;
  const bodyStart = at;
  const inputs = varint();
  if (inputs === 0) throw new Error('a transaction needs at least one input');
  for (let i = 0; i < inputs; i++) {
    skip(36);
    skip(varint());
    skip(4);
  }
  const outputs = varint();
  if (outputs === 0) throw new Error('a transaction needs at least one output');
  for (let i = 0; i < outputs; i++) {
    skip(8);
    skip(varint());
  }
  const bodyEnd = at;
  if (segwit) {
    for (let i = 0; i < inputs; i++) {
      const items = varint();
      for (let j = 0; j < items; j++) skip(varint());
    }
  }
  need(4);
  const locktime = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) + bytes[at + 3] * 0x1000000;
  at += 4;
  if (at !== bytes.length) throw new Error('not a Bitcoin transaction (bytes after its end)');
  const stripped = new Uint8Array(4 + (bodyEnd - bodyStart) + 4);
  stripped.set(bytes.subarray(0, 4), 0);
  stripped.set(bytes.subarray(bodyStart, bodyEnd), 4);
  stripped.set(bytes.subarray(bytes.length - 4), 4 + (bodyEnd - bodyStart));
  const txid = bytesToHex(sha256(sha256(stripped)).reverse());
  return { locktime, txid };
}

export function pad(tx) {
  let size = 512;
  while (size < tx.length) size *= 2;
  const out = new Uint8Array(size);
  out.set(tx, 0);
  return out;
}

export function seal(publicKey, plaintext) {
  const ephemeral = nacl.box.keyPair();
  const input = new Uint8Array(64);
  input.set(ephemeral.publicKey, 0);
  input.set(publicKey, 32);
  const nonce = blake2b(input, { dkLen: 24 });
  const boxed = nacl.box(plaintext, nonce, publicKey, ephemeral.secretKey);
  ephemeral.secretKey.fill(0);
  const out = new Uint8Array(32 + boxed.length);
  out.set(ephemeral.publicKey, 0);
  out.set(boxed, 32);
  return out;
}
