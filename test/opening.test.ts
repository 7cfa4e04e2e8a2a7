// SPEC §2/§4: opening a mature record — decrypt, parse, padding, declared locktime — table-driven.
import test from 'ava';
import nacl from 'tweetnacl';
import { seal } from '../src/crypto/sealed-box.js';
import { openTransaction } from '../src/engine/open-transaction.js';
import { InlineOpener, WorkerOpener } from '../src/engine/opener.js';
import { Transaction } from 'bitcoinjs-lib';
import { fixture } from './support/fixtures.js';
import { bundleWriter, type BundleFixtures } from './support/bundle-fixtures.js';
import { runningWorkers, terminateWorkers } from './support/workers.js';

interface OpeningCase {
  description: string;
  tx?: 'legacy' | 'segwit';
  raw?: string;
  declaredLocktime: number;
  padTo: number;
  poke?: { position: 'after_tx' | 'last'; value: number };
  otherKey?: boolean;
  txid?: string;
  code?: string;
}
const f = fixture<{ transactions: Record<string, string>; valid: OpeningCase[]; invalid: OpeningCase[] }>('opening.json');
const bundles = fixture<BundleFixtures>('bundles.json');
const key = nacl.box.keyPair();
const other = nacl.box.keyPair();

function plaintextOf(c: OpeningCase): Uint8Array {
  const tx = Buffer.from(c.raw ?? f.transactions[c.tx!]!, 'hex');
  const out = new Uint8Array(Math.max(c.padTo, tx.length));
  out.set(tx);
  if (c.poke) out[c.poke.position === 'last' ? out.length - 1 : tx.length] = c.poke.value;
  return out;
}

function sealedOf(c: OpeningCase): Uint8Array {
  return seal((c.otherKey ? other : key).publicKey, plaintextOf(c));
}

for (const c of f.valid) {
  test(`opens: ${c.description}`, (t) => {
    const result = openTransaction(sealedOf(c), key, c.declaredLocktime);
    t.is(result.kind, 'opened');
    if (result.kind !== 'opened') return;
    // A bare transaction is a ladder of one rung of one transaction whose fee is unknown.
    t.is(result.ladder.kind, 'tx');
    t.is(result.ladder.rungs.length, 1);
    const [rung] = result.ladder.rungs;
    t.like(rung, { fee: null, feeRate: null, vsize: Transaction.fromHex(f.transactions[c.tx!]!).virtualSize() });
    t.deepEqual(rung!.txs.map((x) => [x.txid, x.hex]), [[c.txid!, f.transactions[c.tx!]!]]);
  });
}

for (const c of f.invalid) {
  test(`invalid (${c.code}): ${c.description}`, (t) => {
    const result = openTransaction(sealedOf(c), key, c.declaredLocktime);
    t.deepEqual(result, { kind: 'invalid', code: c.code as never });
  });
}

test('an unknown keyId is undecryptable', (t) => {
  t.deepEqual(openTransaction(seal(key.publicKey, new Uint8Array(512)), undefined, 0), { kind: 'invalid', code: 'undecryptable' });
});

test('the worker opener (a batch split between threads) answers exactly as the inline one, in order, bundles included', async (t) => {
  const keys = [{ keyId: 'aa'.repeat(8), ...key }];
  const { plaintextOf } = bundleWriter(bundles.transactions);
  const sealedBundles = [...bundles.valid, ...bundles.invalid].map((row) => ({ locktime: row.declaredLocktime, sealed: seal(key.publicKey, plaintextOf(row)) }));
  const sealedTxs = [...f.valid, ...f.invalid].map((c) => ({ locktime: c.declaredLocktime, sealed: sealedOf(c) }));
  const requests = [...sealedTxs, ...sealedBundles].map((s, i) => ({ id: String(i), keyId: 'aa'.repeat(8), ...s }));
  const worker = new WorkerOpener(keys, { threads: 3 });
  t.teardown(() => worker.close());
  const inline = new InlineOpener(keys);
  const fromWorker = await worker.open(requests);
  const fromInline = await inline.open(requests);
  t.is(fromWorker.length, requests.length);
  t.deepEqual(fromWorker, fromInline);
  t.is(fromWorker.filter((r) => r.kind === 'opened' && r.ladder.kind === 'bundle').length, bundles.valid.length);
});

test('a worker that dies is replaced, and opening goes on', async (t) => {
  t.timeout(20_000, 'a dead worker that is not replaced leaves the batch waiting forever');
  const keys = [{ keyId: 'aa'.repeat(8), ...key }];
  const opener = new WorkerOpener(keys, { threads: 1 });
  t.teardown(() => opener.close());
  const c = f.valid[0]!;
  const request = { id: '1', keyId: 'aa'.repeat(8), locktime: c.declaredLocktime, sealed: sealedOf(c) };
  t.is((await opener.open([request]))[0]!.kind, 'opened');
  t.is(await terminateWorkers(opener), 1);
  t.is((await opener.open([request]))[0]!.kind, 'opened');
});

test('the worker opener starts no thread until used or prepared; prepare() starts every one, and a batch sent while they warm up is answered as the inline opener answers it', async (t) => {
  const keys = [{ keyId: 'aa'.repeat(8), ...key }];
  const opener = new WorkerOpener(keys, { threads: 2 });
  t.teardown(() => opener.close());
  t.is(runningWorkers(opener).length, 0, 'nothing at construction: a service starts no opener thread');
  opener.prepare();
  opener.prepare();
  t.is(runningWorkers(opener).length, 2);
  const requests = [...f.valid, ...f.invalid].map((c, i) => ({ id: String(i), keyId: 'aa'.repeat(8), locktime: c.declaredLocktime, sealed: sealedOf(c) }));
  t.deepEqual(await opener.open(requests), await new InlineOpener(keys).open(requests));
});

test('closing an opener that is warming up is quiet, and later opens are refused', async (t) => {
  const keys = [{ keyId: 'aa'.repeat(8), ...key }];
  const opener = new WorkerOpener(keys, { threads: 2 });
  opener.prepare();
  await opener.close();
  await t.throwsAsync(opener.open([{ id: '1', keyId: 'aa'.repeat(8), locktime: 0, sealed: new Uint8Array(64) }]), { message: /closed/ });
});
