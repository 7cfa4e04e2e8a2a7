// SPEC §7: opening bundles through the opener's pure function — every rule, table-driven from
// test/fixtures/bundles.json — and the client's encoder answering the same code for what a client can write.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import nacl from 'tweetnacl';
import { encodeBundle } from '../src/domain/bundle.js';
import { readPlaintext } from '../src/domain/plaintext.js';
import { seal } from '../src/crypto/sealed-box.js';
import { openTransaction } from '../src/engine/open-transaction.js';
import { fixture } from './support/fixtures.js';
import { bundleFixtures, bundleWriter, type BundleFixtures, type BundleRow } from './support/bundle-fixtures.js';
import { runs } from './support/fuzz.js';

const f = fixture<BundleFixtures>('bundles.json');
const CODES = ['bad_bundle', 'malformed_transaction', 'locktime_mismatch', 'rungs_not_conflicting', 'bad_padding'];

const { frameOf, plaintextOf, draftsOf } = bundleWriter(f.transactions);
const key = nacl.box.keyPair();

function open(row: BundleRow) {
  return openTransaction(seal(key.publicKey, plaintextOf(row)), key, row.declaredLocktime);
}

test('bundles.json is what its generator writes (seeded, reproducible)', (t) => {
  t.deepEqual(JSON.parse(JSON.stringify(bundleFixtures())), f);
});

test('every §7 code has at least one invalid row', (t) => {
  t.deepEqual([...new Set(f.invalid.map((r) => r.code))].sort(), [...CODES].sort());
});

for (const row of f.valid) {
  test(`opens: ${row.description}`, (t) => {
    const result = open(row);
    if (result.kind !== 'opened') return t.fail(result.code);
    t.is(result.ladder.kind, 'bundle');
    t.deepEqual(
      result.ladder.rungs.map((r) => ({ fee: String(r.fee), vsize: r.vsize, feeRate: r.feeRate, txids: r.txs.map((x) => x.txid), wtxids: r.txs.map((x) => x.wtxid) })),
      row.ladder,
    );
    t.deepEqual(result.ladder.rungs.map((r) => r.txs.map((x) => x.hex)), row.rungs.map((r) => r.txs.map((n) => f.transactions[n])));
  });

  test(`the client encodes exactly the SPEC frame: ${row.description}`, (t) => {
    const encoded = encodeBundle(draftsOf(row), row.declaredLocktime);
    if (encoded.kind !== 'ok') return t.fail(`${encoded.code}: ${encoded.detail}`);
    t.is(Buffer.from(encoded.plaintext).toString('hex'), frameOf(row).toString('hex'));
  });
}

for (const row of f.invalid) {
  test(`invalid (${row.code}): ${row.description}`, (t) => {
    t.deepEqual(open(row), { kind: 'invalid', code: row.code as never });
    const read = readPlaintext(plaintextOf(row), row.declaredLocktime);
    if (read.kind === 'invalid') t.log(read.detail);
  });

  // Layout and padding rows describe bytes a client never writes; the rest the client refuses alike.
  if (!row.frame && !row.poke) {
    test(`the client refuses it with the same code (${row.code}): ${row.description}`, (t) => {
      const result = encodeBundle(draftsOf(row), row.declaredLocktime);
      t.is(result.kind === 'invalid' ? result.code : 'ok', row.code!);
    });
  }
}

const three = f.valid.find((r) => r.rungs.length === 3 && r.padTo === 0)!;
const threeFrame = frameOf(three);

testProp('any cut of a bundle frame is bad_bundle', [fc.integer({ min: 4, max: threeFrame.length - 1 })], (t, end) => {
  const result = readPlaintext(threeFrame.subarray(0, end), three.declaredLocktime);
  t.is(result.kind === 'invalid' ? result.code : 'ok', 'bad_bundle');
});

testProp('any bytes after RSB1 answer ok or a §7 code, never throw', [fc.uint8Array({ maxLength: 600 }), fc.nat()], (t, bytes, locktime) => {
  const result = readPlaintext(Buffer.concat([Buffer.from('RSB1'), bytes]), locktime);
  t.true(result.kind === 'ok' || CODES.includes(result.code));
});

testProp('any one byte changed in a valid bundle answers ok or a §7 code, never throws', [fc.nat(), fc.integer({ min: 1, max: 255 })], (t, at, delta) => {
  const bytes = Buffer.from(threeFrame);
  const i = 4 + (at % (bytes.length - 4));
  bytes[i] = (bytes[i]! + delta) & 0xff;
  const result = readPlaintext(bytes, three.declaredLocktime);
  t.true(result.kind === 'ok' || CODES.includes(result.code));
});

testProp('what the client encodes, with any padding, opens to the same ladder', [fc.integer({ min: 0, max: 2048 })], (t, extra) => {
  const encoded = encodeBundle(draftsOf(three), three.declaredLocktime);
  if (encoded.kind !== 'ok') return t.fail();
  const padded = Buffer.concat([encoded.plaintext, Buffer.alloc(extra)]);
  const opened = readPlaintext(padded, three.declaredLocktime);
  t.deepEqual(opened.kind === 'ok' ? opened.ladder : opened, encoded.ladder);
});

// Bundles put together at random from the table's transactions (any order, fee, count, locktime).
const names = Object.keys(f.transactions);
const ladderNames = names.filter((n) => /^(spend_|step_[0-3]$|parent_v3$|child_)/.test(n));
/** Mostly one to `max` items, now and then none (a bad_bundle count). */
const someOf = <T>(item: fc.Arbitrary<T>, max: number) => fc.oneof({ weight: 9, arbitrary: fc.array(item, { minLength: 1, maxLength: max }) }, { weight: 1, arbitrary: fc.constant([] as T[]) });
const rowArb = fc.record({
  declaredLocktime: fc.oneof({ weight: 3, arbitrary: fc.constant(850_000) }, { weight: 1, arbitrary: fc.constantFrom(849_999, 1_718_000_000, 0) }),
  rungs: someOf(
    fc.record({
      fee: fc.oneof(fc.integer({ min: 0, max: 40_000 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(String),
      txs: someOf(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ladderNames) }, { weight: 1, arbitrary: fc.constantFrom(...names) }), 3),
    }),
    4,
  ),
  padTo: fc.nat({ max: 4096 }),
}).map((row): BundleRow => ({ description: 'generated', ...row }));

testProp('a generated bundle: the client encodes it exactly when the opener opens it, else both answer the same code', [rowArb], (t, row) => {
  const encoded = encodeBundle(draftsOf(row), row.declaredLocktime);
  const opened = readPlaintext(plaintextOf(row), row.declaredLocktime);
  t.deepEqual(opened.kind === 'ok' ? opened.ladder : opened.code, encoded.kind === 'ok' ? encoded.ladder : encoded.code);
}, runs(300));

testProp('a non-zero byte anywhere after a well-framed bundle is bad_padding, whatever the bundle holds', [rowArb, fc.nat(), fc.integer({ min: 1, max: 255 })], (t, row, at, value) => {
  fc.pre(row.rungs.length >= 1 && row.rungs.every((r) => r.txs.length >= 1));
  const frame = frameOf(row);
  const plaintext = Buffer.concat([frame, Buffer.alloc(1 + (row.padTo % 1024))]);
  plaintext[frame.length + (at % (plaintext.length - frame.length))] = value;
  const result = readPlaintext(plaintext, row.declaredLocktime);
  t.is(result.kind === 'invalid' ? result.code : 'ok', 'bad_padding');
}, runs(200));
