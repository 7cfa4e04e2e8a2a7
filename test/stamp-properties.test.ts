// Properties of SPEC §8 stamps (src/domain/stamp.ts) and the price a fill sets (admission.ts): the
// check is SHA-256's leading zero bits and nothing else, a stamp is not transferable to another
// nonce, and the bits asked rise with size, horizon and fill, and are 0 while admission.bits is 0.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { createHash } from 'node:crypto';
import { checkStamp, requiredBits, solveStamp, type StampTerms } from '../src/domain/stamp.js';
import { admissionLevel } from '../src/domain/admission.js';
import { runs } from './support/fuzz.js';

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const idArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(hexOf);
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const nonceArb = fc.uint8Array({ minLength: 8, maxLength: 32 }).map(hexOf);

/** SPEC §8 read directly: the leading zero bits of SHA-256 of the stamp text (node:crypto, not the module's hash). */
function zeroBits(id: string, locktime: number, nonce: string): number {
  const digest = createHash('sha256').update(`relaystore stamp v1\n${id}\n${locktime}\n${nonce}`, 'utf8').digest();
  let bits = 0;
  for (const byte of digest) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/** Solved stamps: found by the client's search from a random start. */
const solved = (bits: fc.Arbitrary<number>) =>
  fc.record({ id: idArb, locktime: uint32, bits, start: fc.uint8Array({ minLength: 8, maxLength: 8 }) }).map((s) => ({ ...s, nonce: solveStamp(s.id, s.locktime, s.bits, s.start) }));
const solvedArb = solved(fc.integer({ min: 0, max: 10 }));

testProp('a well-formed nonce is valid for exactly the bits its SHA-256 starts with, from 0 to 256', [idArb, uint32, fc.oneof(nonceArb, solvedArb.map((s) => s.nonce)), fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 256 }))], (t, id, locktime, nonce, bits) => {
  t.is(checkStamp({ bits, id, locktime, nonce }), bits <= zeroBits(id, locktime, nonce) ? 'valid' : 'too_few_zero_bits');
}, runs(300));

testProp('a nonce that is not 8 to 32 bytes of lowercase hex is malformed, whatever the bits', [idArb, uint32, fc.oneof(fc.string(), fc.uint8Array({ maxLength: 40 }).map(hexOf), nonceArb.map((n) => n.toUpperCase()), nonceArb.map((n) => `0x${n}`), nonceArb.map((n) => n.slice(1))), fc.integer({ min: 0, max: 256 })], (t, id, locktime, nonce, bits) => {
  fc.pre(!/^(?:[0-9a-f]{2}){8,32}$/.test(nonce));
  t.is(checkStamp({ bits, id, locktime, nonce }), 'malformed_nonce');
}, runs(200));

testProp('a solved stamp is valid at its bits and every fewer, and at one more only if its hash has that zero too', [solvedArb], (t, s) => {
  for (let b = s.bits; b >= 0; b--) t.is(checkStamp({ ...s, bits: b }), 'valid', `${b} bits`);
  const more = checkStamp({ ...s, bits: s.bits + 1 });
  t.is(more, zeroBits(s.id, s.locktime, s.nonce) > s.bits ? 'valid' : 'too_few_zero_bits');
}, runs(100));

/** The nonce with one bit of its bytes flipped: still well-formed, another message to hash. */
function flipBit(nonce: string, bit: number): string {
  const bytes = Buffer.from(nonce, 'hex');
  bytes[(bit >> 3) % bytes.length]! ^= 1 << (bit & 7);
  return bytes.toString('hex');
}

testProp('a stamp for one id, locktime or nonce is judged afresh for any other: by its own hash, never inherited', [solvedArb, fc.nat(), fc.nat({ max: 2 })], (t, s, bit, which) => {
  const other = [
    { ...s, nonce: flipBit(s.nonce, bit) },
    { ...s, locktime: (s.locktime + 1 + (bit % 1000)) % 2 ** 32 },
    { ...s, id: flipBit(s.id, bit) },
  ][which]!;
  t.is(checkStamp(other), s.bits <= zeroBits(other.id, other.locktime, other.nonce) ? 'valid' : 'too_few_zero_bits');
}, runs(100));

// A changed nonce passes at B bits only by luck, with probability 2^-B, like any fresh nonce. Of 64
// stamps at 10 bits with one nonce bit flipped, 0.0625 are expected to pass; 5 or more would happen
// by chance less than once in 10^8 runs, so it means the check does not read the whole nonce.
test('a one-bit change of a 10-bit stamp\'s nonce almost never still passes (fewer than 5 of 64)', (t) => {
  const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
  const flips = fc.sample(fc.tuple(solved(fc.constant(10)), fc.nat()), { numRuns: 64, seed });
  const still = flips.filter(([s, bit]) => checkStamp({ ...s, nonce: flipBit(s.nonce, bit) }) === 'valid');
  t.true(still.length < 5, `seed ${seed}: ${still.length} of 64 still pass`);
});

const tipArb = fc.option(fc.record({ height: fc.integer({ min: 0, max: 2_000_000 }), hash: fc.constant('00'.repeat(32)), medianTime: fc.integer({ min: 1_231_006_505, max: 2_500_000_000 }) }));
const termsArb: fc.Arbitrary<StampTerms> = fc.record({
  admissionBits: fc.integer({ min: 0, max: 24 }),
  sealedBytes: fc.integer({ min: 108, max: 16 * 1024 * 1024 }),
  locktime: uint32,
  tip: tipArb,
  now: fc.integer({ min: 1_231_006_505, max: 2_500_000_000 }),
});

testProp('while admission.bits is 0 no stamp is asked, whatever the size, locktime or tip; otherwise at least admission.bits', [termsArb], (t, terms) => {
  t.is(requiredBits({ ...terms, admissionBits: 0 }), 0);
  if (terms.admissionBits > 0) t.true(requiredBits(terms) >= terms.admissionBits);
}, runs(300));

testProp('the bits asked never fall as the blob grows, the locktime lies further ahead (same kind) or admission.bits rises', [termsArb, fc.nat({ max: 16 * 1024 * 1024 }), fc.nat(), fc.nat({ max: 24 })], (t, terms, moreBytes, moreTime, moreBits) => {
  const before = requiredBits(terms);
  t.true(requiredBits({ ...terms, sealedBytes: terms.sealedBytes + moreBytes }) >= before, 'bigger');
  const boundary = terms.locktime < 500_000_000 ? 499_999_999 : 0xffffffff;
  t.true(requiredBits({ ...terms, locktime: Math.min(boundary, terms.locktime + moreTime) }) >= before, 'further ahead');
  t.true(requiredBits({ ...terms, admissionBits: terms.admissionBits + moreBits }) >= before, 'a fuller store');
}, runs(300));

const admissionArb = fc.record({ maxStoreBytes: fc.integer({ min: 1, max: 2 ** 40 }), threshold: fc.double({ min: 0, max: 0.99, noNaN: true }), maxBits: fc.integer({ min: 1, max: 40 }) });

testProp('admission.bits is 0 up to the threshold, at least 1 past it, never above the maximum, and never falls as the store fills', [admissionArb, fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true })], (t, options, a, b) => {
  const [low, high] = [Math.min(a, b), Math.max(a, b)].map((fill) => Math.round(fill * options.maxStoreBytes));
  const [lo, hi] = [admissionLevel(low!, options), admissionLevel(high!, options)];
  t.true(lo.bits <= hi.bits && lo.storeFull <= hi.storeFull);
  t.is(lo.bits === 0, low! / options.maxStoreBytes <= options.threshold);
  t.true(hi.bits <= options.maxBits && hi.storeFull >= 0 && hi.storeFull <= 1);
}, runs(300));
