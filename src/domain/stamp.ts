// Proof-of-work stamps (SPEC §8): how many bits a submission needs, the check, and a search that
// runs in slices (the CLI reports progress between them; the page stays responsive). Browser-safe.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { LOCKTIME_THRESHOLD, type Tip } from './locktime.js';

export const BLOCKS_PER_YEAR = 52_560;
export const SECONDS_PER_YEAR = 31_557_600;
/** A nonce: lowercase hex of 8 to 32 bytes (the request schema, src/wire, takes this pattern). */
export const STAMP_NONCE_PATTERN = '^(?:[0-9a-f]{2}){8,32}$';
const NONCE_RE = new RegExp(STAMP_NONCE_PATTERN);

export interface StampTerms {
  /** `admission.bits` of /v1/info: 0 while the store is calm. */
  readonly admissionBits: number;
  readonly sealedBytes: number;
  readonly locktime: number;
  /** The server's reference tip (the last it knew). */
  readonly tip: Tip | null;
  /** UNIX seconds: the reference for a time locktime while no tip is known. */
  readonly now: number;
}

/** The bits a submission needs: nothing while admission.bits is 0, then more for bigger blobs and longer waits. */
export function requiredBits(t: StampTerms): number {
  if (t.admissionBits <= 0) return 0;
  return t.admissionBits + log2Ceil(t.sealedBytes / 1024) + log2Ceil(yearsAhead(t.locktime, t.tip, t.now));
}

/** How far the locktime lies beyond the tip, in years (a height locktime with no tip: 0; the server refuses it anyway). */
export function yearsAhead(locktime: number, tip: Tip | null, now: number): number {
  if (locktime < LOCKTIME_THRESHOLD) return tip === null ? 0 : (locktime - tip.height) / BLOCKS_PER_YEAR;
  return (locktime - (tip?.medianTime ?? now)) / SECONDS_PER_YEAR;
}

/** ceil(log2(max(1, x))), exactly: powers of two compare exactly as doubles, whatever Math.log2 rounds to. */
function log2Ceil(x: number): number {
  let k = 0;
  while (2 ** k < x) k++;
  return k;
}

export type StampVerdict = 'valid' | 'malformed_nonce' | 'too_few_zero_bits';

export interface Stamp {
  readonly bits: number;
  /** The record id (SPEC §3): 32 hex digits. */
  readonly id: string;
  readonly locktime: number;
  readonly nonce: string;
}

export function stampMessage(id: string, locktime: number, nonce: string): string {
  return `relaystore stamp v1\n${id}\n${locktime}\n${nonce}`;
}

export function checkStamp({ bits, id, locktime, nonce }: Stamp): StampVerdict {
  if (!NONCE_RE.test(nonce)) return 'malformed_nonce';
  return hasZeroBits(sha256(utf8ToBytes(stampMessage(id, locktime, nonce))), bits) ? 'valid' : 'too_few_zero_bits';
}

function hasZeroBits(digest: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (digest[i] !== 0) return false;
  const rest = bits & 7;
  return rest === 0 || digest[whole]! >> (8 - rest) === 0;
}

/** Hashes a stamp search expects to try before it finds one. */
export function expectedTries(bits: number): number {
  return 2 ** bits;
}

/**
 * A search for a stamp, one slice at a time. The nonce is 8 bytes counted up from a random start
 * (two searchers never retrace each other), kept as hex text inside the message so that a try
 * costs one SHA-256 and no allocation.
 */
export class StampSearch {
  private readonly message: Uint8Array;
  private readonly nonceAt: number;
  tried = 0;

  constructor(
    readonly id: string,
    readonly locktime: number,
    readonly bits: number,
    start: Uint8Array = randomBytes(8),
  ) {
    this.message = utf8ToBytes(stampMessage(id, locktime, bytesToHex(start)));
    this.nonceAt = this.message.length - 2 * start.length;
  }

  /** Tries up to `count` nonces: the first valid one, or null when this slice found none. The next step goes on past it. */
  step(count: number): string | null {
    for (let i = 0; i < count; i++) {
      this.tried++;
      const found = hasZeroBits(sha256(this.message), this.bits) ? new TextDecoder().decode(this.message.subarray(this.nonceAt)) : null;
      incrementHex(this.message, this.nonceAt);
      if (found !== null) return found;
    }
    return null;
  }
}

const ZERO = 0x30;
const NINE = 0x39;
const A = 0x61;
const F = 0x66;

/** Adds one to the lowercase hex number in message[from..], in place (wrapping at the top). */
function incrementHex(message: Uint8Array, from: number): void {
  for (let i = message.length - 1; i >= from; i--) {
    const c = message[i]!;
    if (c === F) {
      message[i] = ZERO;
      continue;
    }
    message[i] = c === NINE ? A : c + 1;
    return;
  }
}

/**
 * The most bits a client computes unless told otherwise. SPEC §8's default --admission-max-bits is
 * 24; a blob of up to 100 KiB adds at most 7 (ceil(log2(100))) and a locktime up to two years ahead
 * 1: 32, about 4.3e9 hashes, already hours on a laptop. A server asking for more than its own
 * defaults can ask is hostile or broken, and a search for, say, 200 bits would never end.
 */
export const DEFAULT_MAX_STAMP_BITS = 32;

/** The one rule client, CLI and page share: null when `bits` is within the cap, else why nothing is computed. */
export function stampCapRefusal(bits: number, maxBits: number): string | null {
  if (bits <= maxBits) return null;
  return `the server asks for a proof of work of ${bits} bits, more than the ${maxBits} bits this client computes at most ` +
    `(the SPEC's defaults never ask more than 32); it is hostile or broken, so nothing was computed and nothing was stored`;
}

/** A cap a caller gives: a whole number of bits a SHA-256 can have. */
export function isStampCap(maxBits: number): boolean {
  return Number.isInteger(maxBits) && maxBits >= 0 && maxBits <= 256;
}

/** Stamps a client computes for one submission at most: the price can rise while one is computed, not without end. */
export const STAMP_ROUNDS = 3;

/** The bits a stamp_required refusal asks for, as its message says them ("… a stamp of N bits …", engine/intake.ts); 0 if it does not. */
export function bitsAsked(message: string): number {
  return Number(/(\d+) bits/.exec(message)?.[1] ?? 0);
}

/** Searches until it finds a stamp; for small `bits` (tests, fixtures). Callers with real work use StampSearch in slices. */
export function solveStamp(id: string, locktime: number, bits: number, start?: Uint8Array): string {
  const search = new StampSearch(id, locktime, bits, start);
  for (;;) {
    const nonce = search.step(1 << 16);
    if (nonce !== null) return nonce;
  }
}

export interface StampProgress {
  readonly bits: number;
  readonly tried: number;
  /** Hashes a search expects to need: 2^bits (the real count is luck). */
  readonly expected: number;
  /** Measured on this machine since the search began. */
  readonly hashesPerSecond: number;
  readonly elapsedMs: number;
  readonly found: boolean;
}

export interface SliceOptions {
  /** About how long one slice computes before the event loop gets a turn (default 50 ms). */
  readonly sliceMs?: number;
  /** Called after every slice, and once more when the stamp is found. */
  readonly onProgress?: (progress: StampProgress) => void;
  readonly signal?: AbortSignal;
}

/** Searches in slices of about `sliceMs`, yielding between them, so a page stays responsive and a CLI can report. */
export async function solveInSlices(id: string, locktime: number, bits: number, options: SliceOptions = {}): Promise<string> {
  const search = new StampSearch(id, locktime, bits);
  const sliceMs = options.sliceMs ?? 50;
  const started = performance.now();
  let batch = 256;
  for (;;) {
    options.signal?.throwIfAborted();
    const before = performance.now();
    const nonce = search.step(batch);
    const spent = performance.now() - before;
    options.onProgress?.(progressOf(search, started, nonce !== null));
    if (nonce !== null) return nonce;
    // Aim the next slice at sliceMs from what this one cost, growing at most fourfold at a time.
    batch = Math.max(64, Math.min(batch * 4, Math.round((batch * sliceMs) / Math.max(spent, 1))));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function progressOf(search: StampSearch, started: number, found: boolean): StampProgress {
  const elapsedMs = performance.now() - started;
  const hashesPerSecond = elapsedMs > 0 ? (search.tried * 1000) / elapsedMs : 0;
  return { bits: search.bits, tried: search.tried, expected: expectedTries(search.bits), hashesPerSecond, elapsedMs, found };
}
