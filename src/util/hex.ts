// Strict lowercase/uppercase hex decoding: SPEC §3 carries every binary value as hex.
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

export function isHex(value: string): boolean {
  return HEX_RE.test(value);
}

/** Decodes hex or returns null; Buffer.from(…, 'hex') silently truncates at the first bad digit. */
export function fromHex(value: string): Buffer | null {
  if (!HEX_RE.test(value)) return null;
  return Buffer.from(value, 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
