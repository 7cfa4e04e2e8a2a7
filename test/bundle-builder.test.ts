// SPEC §7 on the client: rungs from signed PSBTs (fee from the input values they carry) or raw
// transactions with a stated fee, checked by the server's own rules before anything is sealed.
import test from 'ava';
import { Psbt } from 'bitcoinjs-lib';
import { buildBundle, type RungItem } from '../src/client/bundle-builder.js';
import { BadBundleError } from '../src/client/errors/bad-bundle-error.js';
import { BadTransactionError } from '../src/client/errors/bad-transaction-error.js';
import { readPlaintext } from '../src/domain/plaintext.js';
import { fixture } from './support/fixtures.js';
import { bundleWriter, type BundleFixtures } from './support/bundle-fixtures.js';
import { makePsbt, txOf, type PsbtOptions } from './support/psbts.js';
import { makeTx, randomTxid } from './support/txs.js';

const L = 850_000;
const coin = { txid: randomTxid(), vout: 0, value: 100_000n };

/** One version of the spend of `coin`, paying `fee`. */
function spend(fee: bigint, more: Partial<PsbtOptions> = {}): Psbt {
  return makePsbt({ locktime: L, inputs: [coin], outs: [{ value: coin.value - fee }], ...more });
}

test('a three-rung ladder of PSBTs: fees from their input values, rates from their virtual sizes', (t) => {
  const psbts = [550n, 2_200n, 8_800n].map((fee) => spend(fee));
  const bundle = buildBundle(psbts.map((psbt) => [{ psbt }]));
  t.is(bundle.locktime, L);
  t.is(bundle.locktimeType, 'height');
  t.deepEqual(bundle.ladder.rungs.map((r) => r.fee), [550n, 2_200n, 8_800n]);
  t.deepEqual(bundle.ladder.rungs.map((r) => r.feeRate), [5, 20, 80]);
  t.is(bundle.txid, txOf(psbts[0]!).getId());
  // What it seals opens, on the server's side, to the same ladder.
  const opened = readPlaintext(bundle.bytes, bundle.locktime);
  t.deepEqual(opened, { kind: 'ok', ladder: bundle.ladder });
});

test('PSBTs in base64, hex and binary, signed but not finalized, or carrying whole previous transactions', (t) => {
  const previous = makeTx({ locktime: 0, outs: [{ script: '0014' + '11'.repeat(20), value: 100_000n }] });
  const fromPrevious = makePsbt({ locktime: L, inputs: [{ txid: previous.txid, vout: 0, value: 0n, previous: previous.tx }], outs: [{ value: 90_000n }] });
  const other = makePsbt({ locktime: L, inputs: [{ txid: previous.txid, vout: 0, value: 100_000n }], outs: [{ value: 80_000n }], state: 'signed' });
  const psbts: RungItem[][] = [[{ psbt: spend(550n).toBase64() }], [{ psbt: spend(2_200n).toHex() }], [{ psbt: spend(8_800n).toBuffer() }]];
  t.deepEqual(buildBundle(psbts).ladder.rungs.map((r) => r.fee), [550n, 2_200n, 8_800n]);
  const signedOnly = other.clone();
  t.deepEqual(buildBundle([[{ psbt: fromPrevious }], [{ psbt: signedOnly }]]).ladder.rungs.map((r) => r.fee), [10_000n, 20_000n]);
  t.false(signedOnly.data.inputs.some((i) => i.finalScriptWitness), "the caller's PSBT is left as it was");
});

test('a ladder of packages: a zero-fee v3 parent (raw, fee 0) shared by PSBT children paying through its P2A anchor', (t) => {
  const anchor = Uint8Array.from([0x51, 0x02, 0x4e, 0x73]);
  const parent = makeTx({ version: 3, locktime: L, outs: [{ script: '0014' + '22'.repeat(20), value: 100_000n }, { script: '51024e73', value: 0n }] });
  const wallet = { txid: randomTxid(), vout: 0, value: 50_000n };
  const child = (fee: bigint) =>
    makePsbt({ version: 3, locktime: 0, inputs: [{ txid: parent.txid, vout: 1, value: 0n, script: anchor }, wallet], outs: [{ value: wallet.value - fee }] });
  const rungs = [2_000n, 8_000n, 30_000n].map((fee) => [{ tx: parent.hex, fee: 0 }, { psbt: child(fee) }]);
  const bundle = buildBundle(rungs);
  t.deepEqual(bundle.ladder.rungs.map((r) => r.fee), [2_000n, 8_000n, 30_000n]);
  t.deepEqual(bundle.ladder.rungs.map((r) => r.txs[0]!.txid), [parent.txid, parent.txid, parent.txid]);
  t.is(bundle.txid, parent.txid);
});

test('every client-writable invalid row of bundles.json is refused with the server code, before sealing', (t) => {
  const f = fixture<BundleFixtures>('bundles.json');
  const rows = f.invalid.filter((row) => !row.frame && !row.poke);
  for (const row of rows) {
    // The rung's whole fee stated on its first transaction, 0 on the others.
    const rungs = row.rungs.map((r) => r.txs.map((name, i) => ({ tx: Buffer.from(f.transactions[name]!, 'hex'), fee: i === 0 ? BigInt(r.fee) : 0n })));
    const err = t.throws(() => buildBundle(rungs), { instanceOf: BadBundleError }, row.description);
    t.is(err?.code, row.code as never, row.description);
  }
  t.true(rows.length >= 15);
  const { frameOf } = bundleWriter(f.transactions);
  for (const row of f.valid) {
    const rungs = row.rungs.map((r) => r.txs.map((name, i) => ({ tx: Buffer.from(f.transactions[name]!, 'hex'), fee: i === 0 ? BigInt(r.fee) : 0n })));
    t.deepEqual(Buffer.from(buildBundle(rungs).bytes), frameOf(row), row.description);
  }
});

test('rule breaks with PSBTs answer the server code: falling fees, rungs that could both confirm', (t) => {
  t.is(t.throws(() => buildBundle([[{ psbt: spend(2_200n) }], [{ psbt: spend(550n) }]]), { instanceOf: BadBundleError })?.code, 'bad_bundle');
  const elsewhere = makePsbt({ locktime: L, inputs: [{ txid: randomTxid(), vout: 0, value: 100_000n }], outs: [{ value: 90_000n }] });
  t.is(t.throws(() => buildBundle([[{ psbt: spend(550n) }], [{ psbt: elsewhere }]]), { instanceOf: BadBundleError })?.code, 'rungs_not_conflicting');
  const later = spend(2_200n, { locktime: L + 1 });
  t.is(t.throws(() => buildBundle([[{ psbt: spend(550n) }], [{ psbt: later }]]), { instanceOf: BadBundleError })?.code, 'locktime_mismatch');
});

test('what cannot be read says so: an unsigned PSBT, one without input values, not a PSBT, not hex, a fractional fee', (t) => {
  const unsigned = spend(550n, { state: 'unsigned' });
  t.regex(t.throws(() => buildBundle([[{ psbt: unsigned }]]), { instanceOf: BadTransactionError })!.message, /rung 0, transaction 0: the PSBT is not fully signed/);
  const bare = makePsbt({ locktime: L, inputs: [{ ...coin, bare: true }], outs: [{ value: 1n }] });
  t.regex(t.throws(() => buildBundle([[{ psbt: bare }]]), { instanceOf: BadTransactionError })!.message, /witnessUtxo or nonWitnessUtxo/);
  t.regex(t.throws(() => buildBundle([[{ psbt: 'bm90IGEgcHNidA==' }]]), { instanceOf: BadTransactionError })!.message, /is not a PSBT/);
  t.regex(t.throws(() => buildBundle([[{ tx: 'xyz', fee: 1 }]]), { instanceOf: BadTransactionError })!.message, /is not hex/);
  t.regex(t.throws(() => buildBundle([[{ tx: '00', fee: 1.5 }]]), { instanceOf: BadTransactionError })!.message, /whole number of satoshis/);
});
