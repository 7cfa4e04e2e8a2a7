// Properties of the client's transaction parser (src/client/envelope.ts), the opener's plaintext
// reader (src/domain/plaintext.ts) and SPEC §2 padding (src/crypto/padding.ts), over generated
// transactions, their mutations and arbitrary bytes, sealed or not: each answers a value or its
// named refusal, and the client never accepts what the opener would refuse.
import { testProp, fc } from '@fast-check/ava';
import { Transaction } from 'bitcoinjs-lib';
import nacl from 'tweetnacl';
import { parseTransaction, sealTransaction, isBadTransactionError } from '../src/index.js';
import { openTransaction } from '../src/engine/open-transaction.js';
import { seal } from '../src/crypto/sealed-box.js';
import { readPlaintext } from '../src/domain/plaintext.js';
import { isBundle } from '../src/domain/bundle.js';
import { firstNonZero, pad, paddedLength, MIN_PADDED_LENGTH } from '../src/crypto/padding.js';
import { locktimeArb, mutationArb, runs, serializeTx, serializeTxWith, txPartsArb, widthsArb, concat } from './support/fuzz.js';
import { fixture, type TransactionFixtures } from './support/fixtures.js';

const OPENING_CODES = ['malformed_transaction', 'locktime_mismatch', 'bad_padding', 'bad_bundle', 'rungs_not_conflicting'];
const table = fixture<TransactionFixtures>('transactions.json');
const fixtureTx = fc.constantFrom(...table.valid.map((v) => Uint8Array.from(Buffer.from(v.hex, 'hex'))));
/** A transaction as a client may hand it in: from the fixture table or generated, then maybe edited. */
const candidateArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.oneof(fixtureTx, txPartsArb.map(serializeTx)), fc.array(mutationArb, { maxLength: 3 })).map(([tx, edits]) => edits.reduce((b, edit) => edit(b), tx)),
  fc.tuple(txPartsArb, widthsArb).map(([parts, widths]) => serializeTxWith(parts, widths)),
);

/** The client's verdict as a value: the parsed transaction, or the refusal; anything else thrown fails the property. */
function clientParse(tx: string | Uint8Array) {
  try {
    return { ok: true as const, parsed: parseTransaction(tx) };
  } catch (err) {
    if (!isBadTransactionError(err)) throw err;
    return { ok: false as const, message: (err as Error).message };
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The nLockTime of whatever transaction bitcoinjs-lib reads at the start (0 if none), so that the declared one can match. */
function leadingLocktime(plaintext: Uint8Array): number {
  try {
    return Transaction.fromBuffer(plaintext, true).locktime;
  } catch {
    return 0;
  }
}

testProp('the client parser answers a transaction or BadTransactionError, never anything else', [candidateArb], (t, bytes) => {
  const verdict = clientParse(bytes);
  t.true(verdict.ok || verdict.message.length > 0);
}, runs(250));

testProp('any string: a transaction or BadTransactionError, and hex parses as its bytes do', [fc.oneof(fc.string(), candidateArb.map(hex), fc.tuple(fc.constantFrom(' ', '\n', '\t '), candidateArb).map(([ws, b]) => `${ws}${hex(b).toUpperCase()}${ws}`))], (t, text) => {
  const verdict = clientParse(text);
  if (!verdict.ok) return t.pass();
  const again = clientParse(Buffer.from(text.trim(), 'hex'));
  t.deepEqual(again.ok && { txid: again.parsed.txid, locktime: again.parsed.locktime }, { txid: verdict.parsed.txid, locktime: verdict.parsed.locktime });
}, runs(300));

testProp('what the client accepts re-serializes to exactly its bytes, with the txid and locktime of those bytes', [candidateArb], (t, bytes) => {
  const verdict = clientParse(bytes);
  if (!verdict.ok) return t.pass();
  const tx = Transaction.fromBuffer(verdict.parsed.bytes);
  t.is(hex(tx.toBuffer()), hex(bytes));
  t.is(verdict.parsed.txid, tx.getId());
  t.is(verdict.parsed.locktime, tx.locktime);
}, runs(250));

testProp('what the client accepts, the opener opens, padded, to the same one transaction', [candidateArb], (t, bytes) => {
  const verdict = clientParse(bytes);
  if (!verdict.ok) return t.pass();
  const opened = readPlaintext(pad(bytes), verdict.parsed.locktime);
  if (opened.kind !== 'ok') return t.fail(`${opened.code}: ${opened.detail}`);
  t.deepEqual(opened.ladder.rungs.map((r) => r.txs.map((x) => [x.txid, x.hex])), [[[verdict.parsed.txid, hex(bytes)]]]);
}, runs(250));

testProp('the client accepts exactly the canonical serializations, bar those that read as a bundle', [txPartsArb, widthsArb], (t, parts, widths) => {
  const bytes = serializeTxWith(parts, widths);
  const canonical = hex(bytes) === hex(serializeTx(parts));
  t.is(clientParse(bytes).ok, canonical && !isBundle(bytes), canonical ? 'canonical' : 'a CompactSize wider than needed');
}, runs(300));

testProp('the opener answers any plaintext with a ladder or a named code, never throws', [fc.oneof(candidateArb, candidateArb.map(pad)), locktimeArb], (t, plaintext, locktime) => {
  const opened = readPlaintext(plaintext, locktime);
  t.true(opened.kind === 'ok' || OPENING_CODES.includes(opened.code), opened.kind === 'ok' ? '' : opened.code);
}, runs(250));

testProp('what the opener accepts as a transaction is a canonical prefix with the declared locktime and only zeros after', [fc.oneof(candidateArb, candidateArb.map(pad))], (t, plaintext) => {
  const locktime = leadingLocktime(plaintext);
  const opened = readPlaintext(plaintext, locktime);
  if (opened.kind !== 'ok' || opened.ladder.kind !== 'tx') return t.pass();
  const txHex = opened.ladder.rungs[0]!.txs[0]!.hex;
  const length = txHex.length / 2;
  t.is(txHex, hex(plaintext.subarray(0, length)));
  t.is(hex(Transaction.fromHex(txHex).toBuffer()), txHex);
  t.is(Transaction.fromHex(txHex).locktime, locktime);
  t.is(firstNonZero(plaintext, length), -1);
}, runs(300));

testProp('paddedLength is the smallest power of two that holds the transaction, and at least 512', [fc.integer({ min: 0, max: 1 << 24 })], (t, n) => {
  const size = paddedLength(n);
  t.true(size >= n && size >= MIN_PADDED_LENGTH);
  t.is(size & (size - 1), 0, 'a power of two');
  t.true(size === MIN_PADDED_LENGTH || size / 2 < n, 'no smaller one would do');
}, runs(300));

testProp('pad(tx) is the transaction then zeros, and opens to it', [txPartsArb.map(serializeTx)], (t, tx) => {
  fc.pre(!isBundle(tx));
  const padded = pad(tx);
  t.is(padded.length, paddedLength(tx.length));
  t.is(hex(padded.subarray(0, tx.length)), hex(tx));
  t.is(firstNonZero(padded, tx.length), -1);
  const opened = readPlaintext(padded, Transaction.fromBuffer(tx).locktime);
  t.is(opened.kind === 'ok' ? opened.ladder.rungs[0]!.txs[0]!.hex : opened.code, hex(tx));
}, runs(200));

testProp('any non-zero byte after the transaction, in any padding, is bad_padding', [txPartsArb.map(serializeTx), fc.nat({ max: 2048 }), fc.nat(), fc.integer({ min: 1, max: 255 })], (t, tx, extra, at, value) => {
  fc.pre(!isBundle(tx));
  const plaintext = concat(tx, new Uint8Array(extra + 1));
  const stray = tx.length + (at % (extra + 1));
  plaintext[stray] = value;
  t.is(firstNonZero(plaintext, tx.length), stray);
  const opened = readPlaintext(plaintext, Transaction.fromBuffer(tx).locktime);
  t.is(opened.kind === 'ok' ? 'ok' : opened.code, 'bad_padding');
}, runs(300));

testProp('firstNonZero finds the first non-zero byte at or after the offset', [fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 70 })], (t, bytes, offset) => {
  const expected = [...bytes].findIndex((b, i) => i >= offset && b !== 0);
  t.is(firstNonZero(bytes, offset), expected);
}, runs(300));

const key = nacl.box.keyPair();
const CODES = ['undecryptable', ...OPENING_CODES];

testProp('what the client seals opens to its transaction; any byte of the sealed blob changed is undecryptable', [fc.oneof(fixtureTx, txPartsArb.map(serializeTx)), fc.nat(), fc.integer({ min: 1, max: 255 })], (t, bytes, at, delta) => {
  const verdict = clientParse(bytes);
  if (!verdict.ok) return t.true(isBundle(bytes), verdict.message);
  const { sealed } = sealTransaction(key.publicKey, verdict.parsed);
  const opened = openTransaction(sealed, key, verdict.parsed.locktime);
  t.deepEqual(opened.kind === 'opened' ? opened.ladder.rungs[0]!.txs.map((x) => x.hex) : opened.code, [hex(bytes)]);
  const forged = Uint8Array.from(sealed);
  forged[at % forged.length] = (forged[at % forged.length]! + delta) & 0xff;
  // A forgery against Poly1305 succeeds with probability below 2^-100: never, in any run.
  t.deepEqual(openTransaction(forged, key, verdict.parsed.locktime), { kind: 'invalid', code: 'undecryptable' });
}, runs(60));

testProp('any bytes as a sealed blob, or any plaintext sealed to the key: opened or a named code, never thrown', [fc.oneof(fc.uint8Array({ maxLength: 200 }), candidateArb.map((b) => seal(key.publicKey, b)), candidateArb.map((b) => seal(key.publicKey, pad(b)))), locktimeArb], (t, sealed, locktime) => {
  const opened = openTransaction(sealed, key, locktime);
  t.true(opened.kind === 'opened' || CODES.includes(opened.code));
}, runs(100));
