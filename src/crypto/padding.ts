// SPEC §2 padding: the serialized transaction followed by 0x00 bytes, to the next power of two ≥ 512.
export const MIN_PADDED_LENGTH = 512;

export function paddedLength(txLength: number): number {
  let size = MIN_PADDED_LENGTH;
  while (size < txLength) size *= 2;
  return size;
}

export function pad(tx: Uint8Array): Uint8Array {
  const out = new Uint8Array(paddedLength(tx.length));
  out.set(tx, 0);
  return out;
}

/** Where the first non-zero byte from `offset` on stands, or -1: anything but zero after the transaction (or bundle) is `bad_padding`. */
export function firstNonZero(plaintext: Uint8Array, offset: number): number {
  for (let i = offset; i < plaintext.length; i++) if (plaintext[i] !== 0) return i;
  return -1;
}
