// SPEC §7 end to end: the service as a child process, through the recording SOCKS5 server, in front
// of a test explorer with a fee market (known coin values, minimum fees, Core's replacement rule,
// package fee rates, fee estimates, mining that leaves out what pays too little): choosing and
// climbing rungs, packages and their endpoints, invalid bundles, SIGKILL between rungs.
import test from 'ava';
import { encodeBundle } from '../src/domain/bundle.js';
import { pad } from '../src/crypto/padding.js';
import { MIN_TX_BYTES } from '../src/wire/submit-request.js';
import type { TestExplorer } from './support/explorer.js';
import { makeTx, P2A_SCRIPT, p2wpkhScript, randomTxid, type TestTx } from './support/txs.js';
import { fixture } from './support/fixtures.js';
import { bundleWriter, type BundleFixtures } from './support/bundle-fixtures.js';
import { EXPLORER_NAMES, mine, restartService, startServiceWorld, type ServiceWorld, type ServiceWorldOptions } from './support/service-world.js';
import { until } from './support/wait.js';

const DONE = (r: { status: string }) => r.status === 'broadcast' || r.status === 'confirmed';

function feeWorld(t: { teardown(fn: () => unknown): void }, opts: ServiceWorldOptions = {}): Promise<ServiceWorld> {
  return startServiceWorld(t, { ...opts, explorer: { knownInputsOnly: true, ...opts.explorer } });
}

function coin(e: TestExplorer, value: number): { txid: string; vout: number } {
  const txid = randomTxid();
  e.fund(txid, 0, value);
  return { txid, vout: 0 };
}

interface DraftRung {
  fee: number;
  txs: TestTx[];
}

/** The RSB1 plaintext of `rungs`, padded, through the same encoder clients use. */
function bundle(rungs: readonly DraftRung[], locktime: number): Uint8Array {
  const encoded = encodeBundle(rungs.map((r) => ({ fee: BigInt(r.fee), txs: r.txs.map((tx) => tx.bytes) })), locktime);
  if (encoded.kind !== 'ok') throw new Error(`${encoded.code}: ${encoded.detail}`);
  return pad(encoded.plaintext);
}

/** A zero-fee v3 parent at `locktime` with a P2A anchor, and a v3 child paying `childFee` for both. */
function anchoredPackage(e: TestExplorer, locktime: number, childFee: number, parentFee = 0): DraftRung & { parent: TestTx; child: TestTx } {
  const parent = makeTx({ locktime, version: 3, inputs: [coin(e, 100_000)], outs: [{ script: p2wpkhScript(), value: BigInt(100_000 - parentFee) }, { script: P2A_SCRIPT, value: 0n }] });
  const child = makeTx({ locktime: 0, version: 3, inputs: [{ txid: parent.txid, vout: 1 }, coin(e, 20_000)], outs: [{ script: p2wpkhScript(), value: BigInt(20_000 - childFee) }] });
  return { fee: parentFee + childFee, txs: [parent, child], parent, child };
}

async function submitBundle(w: ServiceWorld, rungs: readonly DraftRung[], locktime: number): Promise<string> {
  const res = await w.client.submitPlaintext(locktime, bundle(rungs, locktime));
  if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json.id as string;
}

const postsTo = (w: ServiceWorld, host: string) => w.socks.connections.filter((c) => c.host === host && c.firstLine?.startsWith('POST')).map((c) => c.firstLine!.split(' ')[1]);

test.serial('a zero-fee v3 parent with a P2A anchor is confirmed as a package with its child', async (t) => {
  const w = await feeWorld(t);
  const locktime = w.explorer.tip().height;
  const rung = anchoredPackage(w.explorer, locktime, 3000);
  const id = await submitBundle(w, [rung], locktime);
  const sent = await w.client.waitForStatus(id, DONE);
  t.deepEqual(sent.txids, [rung.parent.txid, rung.child.txid]);
  t.is(sent.rungs, 1);
  t.true(w.explorer.inMempool(rung.parent.txid) && w.explorer.inMempool(rung.child.txid));
  for (const host of EXPLORER_NAMES) t.deepEqual(postsTo(w, host), ['/api/txs/package'], `${host}: as a package, never alone`);

  // Miners take the parent only because its child pays for both.
  await mine(w, 1, { minFeeRate: 5 });
  await mine(w, 1);
  const confirmed = await w.client.waitForStatus(id, (r) => r.status === 'confirmed');
  t.is(w.explorer.confirmations(rung.child.txid), 2);
  t.true([rung.parent.txid, rung.child.txid].includes(confirmed.txid ?? ''));
});

test.serial('an explorer with only mempool.space\'s path: found after a 404, then asked there directly', async (t) => {
  const w = await feeWorld(t, { explorer: { packageEndpoint: '/v1/txs/package' } });
  const locktime = w.explorer.tip().height;
  const first = anchoredPackage(w.explorer, locktime, 3000);
  await w.client.waitForStatus(await submitBundle(w, [first], locktime), DONE);
  for (const host of EXPLORER_NAMES) t.deepEqual(postsTo(w, host), ['/api/txs/package', '/api/v1/txs/package'], host);
  const found = w.service.lines.filter((l) => l.event === 'package_route');
  t.deepEqual(new Set(found.map((l) => `${l.explorer} ${l.route}`)), new Set(EXPLORER_NAMES.map((h) => `${h} /v1/txs/package`)));

  const second = anchoredPackage(w.explorer, locktime, 3000);
  await w.client.waitForStatus(await submitBundle(w, [second], locktime), DONE);
  for (const host of EXPLORER_NAMES) t.deepEqual(postsTo(w, host).slice(2), ['/api/v1/txs/package'], `${host}: remembered`);
  t.true(w.explorer.inMempool(second.child.txid));
});

test.serial('an explorer without packages gets the transactions one by one, parents first', async (t) => {
  const w = await feeWorld(t, { explorer: { packageEndpoint: 'none' } });
  const locktime = w.explorer.tip().height;
  // The parent pays the minimum relay fee itself: without package relay nothing else can carry it.
  const rung = anchoredPackage(w.explorer, locktime, 3000, 400);
  const id = await submitBundle(w, [rung], locktime);
  await w.client.waitForStatus(id, DONE);
  for (const host of EXPLORER_NAMES) t.deepEqual(postsTo(w, host).slice(2), ['/api/tx', '/api/tx'], host);
  const order = w.explorer.received.map((r) => r.txid);
  t.true(order.indexOf(rung.parent.txid) < order.indexOf(rung.child.txid), 'parents first');
  await mine(w, 2);
  await w.client.waitForStatus(id, (r) => r.status === 'confirmed');
  t.is(w.explorer.confirmations(rung.child.txid), 2);
});

test.serial('each invalid bundle of the fixture table ends invalid with its code and is never sent', async (t) => {
  const f = fixture<BundleFixtures>('bundles.json');
  // Mature for every row: heights past 850,000 and a median time past 1,718,000,000.
  const w = await feeWorld(t, { explorer: { startHeight: 850_100, startTime: 1_718_100_000 } });
  const { plaintextOf } = bundleWriter(f.transactions);
  const ids = [];
  for (const row of f.invalid) {
    const plaintext = plaintextOf(row);
    const res = await w.client.submitPlaintext(row.declaredLocktime, plaintext);
    if (plaintext.length < MIN_TX_BYTES) {
      // Too short to hold even one transaction: refused at the door, never stored.
      t.like(res, { status: 400, json: { error: { code: 'invalid_sealed' } } }, row.description);
      continue;
    }
    t.is(res.status, 201, row.description);
    ids.push({ id: res.json.id as string, row });
  }
  t.true(ids.length >= f.invalid.length - 1, 'all but the shortest rows are stored and opened');
  for (const { id, row } of ids) {
    const final = await w.client.waitForStatus(id, (r) => r.status !== 'pending' && r.status !== 'broadcasting');
    t.is(final.status, 'invalid', row.description);
    t.is(final.error?.code as string | undefined, row.code, row.description);
  }
  t.deepEqual(w.explorer.received, [], 'nothing reached the explorer');
  t.false(w.socks.connections.some((c) => c.firstLine?.startsWith('POST')), 'not even an attempt');
});

/** Rungs of one transaction each, all spending one coin, paying exactly `rates` sat/vB. */
function singleTxLadder(e: TestExplorer, locktime: number, rates: readonly number[]): Array<DraftRung & { tx: TestTx }> {
  const input = coin(e, 100_000);
  const vsize = makeTx({ locktime, inputs: [input], outs: [{ script: p2wpkhScript(), value: 100_000n }] }).tx.virtualSize();
  return rates.map((rate) => {
    const tx = makeTx({ locktime, inputs: [input], outs: [{ script: p2wpkhScript(), value: BigInt(100_000 - rate * vsize) }] });
    return { fee: rate * vsize, txs: [tx], tx };
  });
}

const sentTxids = (w: ServiceWorld) => new Set(w.explorer.received.map((r) => r.txid));

/** Waits until /v1/info shows the explorers' estimate (it is read with the chain polling). */
async function estimateSeen(w: ServiceWorld, estimate: number | null): Promise<void> {
  await until(async () => (await w.client.json('GET', '/v1/info')).json.fees.estimate === estimate, `estimate ${estimate} in /v1/info`);
}

test.serial('the cheapest rung at or above the estimate is sent; cheaper and dearer ones never are', async (t) => {
  const w = await feeWorld(t, { args: ['--fee-target', '6'] });
  w.explorer.setFeeEstimates({ '1': 40, '3': 20, '6': 8, '144': 1 });
  await estimateSeen(w, 8);
  t.deepEqual((await w.client.json('GET', '/v1/info')).json.fees, { targetBlocks: 6, bumpBlocks: 3, estimate: 8 });
  const locktime = w.explorer.tip().height;
  const rungs = singleTxLadder(w.explorer, locktime, [2, 10, 30]);
  const id = await submitBundle(w, rungs, locktime);
  const sent = await w.client.waitForStatus(id, DONE);
  t.like(sent, { rungs: 3, rung: 1, feeRate: 10, txid: rungs[1]!.tx.txid, txids: [rungs[1]!.tx.txid] });
  t.deepEqual(sentTxids(w), new Set([rungs[1]!.tx.txid]));
  await mine(w, 2);
  t.like(await w.client.waitForStatus(id, (r) => r.status === 'confirmed'), { rung: 1, txid: rungs[1]!.tx.txid });
  t.deepEqual(sentTxids(w), new Set([rungs[1]!.tx.txid]), 'rungs 0 and 2 never left the server');
});

test.serial('a rung refused for its fee is followed at once by the next', async (t) => {
  const w = await feeWorld(t);
  w.explorer.setFeeEstimates({ '6': 8 });
  w.explorer.setMempoolMinFee(15);
  await estimateSeen(w, 8);
  const locktime = w.explorer.tip().height;
  const rungs = singleTxLadder(w.explorer, locktime, [2, 10, 30]);
  const id = await submitBundle(w, rungs, locktime);
  const sent = await w.client.waitForStatus(id, DONE);
  t.like(sent, { rung: 2, feeRate: 30, txid: rungs[2]!.tx.txid });
  t.deepEqual(sentTxids(w), new Set([rungs[1]!.tx.txid, rungs[2]!.tx.txid]), 'rung 1, refused, then rung 2; never rung 0');
  const refusal = w.service.lines.find((l) => l.event === 'broadcast' && l.rung === 1);
  t.like(refusal, { outcome: 'fee_too_low' });
  t.regex(String(refusal?.reason), /^mempool min fee not met, \d+ < \d+$/);
  t.truthy(w.service.lines.find((l) => l.event === 'climb' && l.rung === 2 && l.reason === 'fee'));
  t.false(w.explorer.accepted(rungs[1]!.tx.txid));
  t.true(w.explorer.inMempool(rungs[2]!.tx.txid));
});

test.serial('one ladder\'s life: the first rung without an estimate, left out by miners, replaced after --fee-bump-blocks, confirmed', async (t) => {
  const w = await feeWorld(t, { args: ['--fee-bump-blocks', '2'] });
  const locktime = w.explorer.tip().height;
  const rungs = singleTxLadder(w.explorer, locktime, [2, 10, 30]);
  const life: string[] = [`ladder of 3 rungs at 2, 10, 30 sat/vB, one coin; no fee estimate; --fee-bump-blocks 2`];
  const note = async (what: string) => {
    const r = await w.client.status(id);
    life.push(`height ${w.explorer.tip().height}: ${what} → ${r.status}, rung ${r.rung} (${r.feeRate} sat/vB), txid ${String(r.txid).slice(0, 12)}…${r.confirmations !== undefined ? `, ${r.confirmations} conf` : ''}`);
    return r;
  };
  const id = await submitBundle(w, rungs, locktime);
  await w.client.waitForStatus(id, DONE);
  t.like(await note('due, no estimate: the first rung is sent'), { rung: 0, feeRate: 2 });

  await mine(w, 1, { minFeeRate: 5 });
  t.like(await note('a block that leaves out what pays under 5 sat/vB'), { status: 'broadcast', rung: 0 });
  t.true(w.explorer.inMempool(rungs[0]!.tx.txid));
  await mine(w, 1, { minFeeRate: 5 });
  const climbed = await w.client.waitForStatus(id, (r) => r.rung === 1 && r.status === 'broadcast');
  t.like(climbed, { feeRate: 10, txid: rungs[1]!.tx.txid });
  await note('2 blocks unconfirmed: rung 1 replaces rung 0');
  t.false(w.explorer.accepted(rungs[0]!.tx.txid), 'the explorer replaced rung 0 (RBF)');
  t.true(w.explorer.inMempool(rungs[1]!.tx.txid));

  await mine(w, 1, { minFeeRate: 5 });
  await mine(w, 1);
  const confirmed = await w.client.waitForStatus(id, (r) => r.status === 'confirmed');
  t.like(confirmed, { rung: 1, txid: rungs[1]!.tx.txid });
  await note('mined at 10 sat/vB, 2 confirmations');
  t.false(sentTxids(w).has(rungs[2]!.tx.txid), 'rung 2 was never needed');
  life.push(...w.service.lines.filter((l) => ['broadcast', 'climb', 'confirmed'].includes(String(l.event))).map((l) => `  log: ${JSON.stringify(l)}`));
  t.log(life.join('\n'));
});

test.serial('SIGKILL between rungs: each restart resumes at the rung it had reached, never an earlier one', async (t) => {
  const w = await feeWorld(t, { args: ['--fee-bump-blocks', '2'] });
  const locktime = w.explorer.tip().height;
  const rungs = singleTxLadder(w.explorer, locktime, [2, 10, 30]);
  const id = await submitBundle(w, rungs, locktime);
  t.like(await w.client.waitForStatus(id, DONE), { rung: 0 });

  for (const next of [1, 2]) {
    t.is(await w.service.kill('SIGKILL'), null);
    w.explorer.mine(2, { minFeeRate: 50 });
    const before = w.explorer.received.length;
    await restartService(w);
    const resumed = await w.client.waitForStatus(id, (r) => r.rung === next && r.status === 'broadcast');
    t.like(resumed, { txid: rungs[next]!.tx.txid, feeRate: [2, 10, 30][next] });
    const after = w.explorer.received.slice(before).map((r) => r.txid);
    t.true(after.includes(rungs[next]!.tx.txid), `rung ${next} sent after restart`);
    const earlier = rungs.slice(0, next).map((r) => r.tx.txid);
    t.false(after.some((txid) => earlier.includes(txid)), 'no earlier rung is sent again');
    t.true(w.explorer.inMempool(rungs[next]!.tx.txid));
  }
  await mine(w, 2);
  t.like(await w.client.waitForStatus(id, (r) => r.status === 'confirmed'), { rung: 2, txid: rungs[2]!.tx.txid });
});

test.serial('a ladder of packages sharing a zero-fee v3 parent climbs when the package fee rate is refused', async (t) => {
  const w = await feeWorld(t);
  w.explorer.setMempoolMinFee(5);
  const locktime = w.explorer.tip().height;
  const parent = makeTx({ locktime, version: 3, inputs: [coin(w.explorer, 100_000)], outs: [{ script: p2wpkhScript(), value: 100_000n }, { script: P2A_SCRIPT, value: 0n }] });
  const child = (fee: number, funding: { txid: string; vout: number }) =>
    makeTx({ locktime: 0, version: 3, inputs: [{ txid: parent.txid, vout: 1 }, funding], outs: [{ script: p2wpkhScript(), value: BigInt(20_000 - fee) }] });
  const funding = coin(w.explorer, 20_000);
  const vsize = parent.tx.virtualSize() + child(0, funding).tx.virtualSize();
  const cheap = child(2 * vsize, funding);
  const dear = child(20 * vsize, funding);
  const id = await submitBundle(w, [{ fee: 2 * vsize, txs: [parent, cheap] }, { fee: 20 * vsize, txs: [parent, dear] }], locktime);
  const sent = await w.client.waitForStatus(id, DONE);
  t.like(sent, { rung: 1, feeRate: 20, txids: [parent.txid, dear.txid] });
  t.like(w.service.lines.find((l) => l.event === 'broadcast' && l.rung === 0), { outcome: 'fee_too_low' });
  t.false(w.explorer.accepted(cheap.txid));
  await mine(w, 1, { minFeeRate: 10 });
  await mine(w, 1);
  await w.client.waitForStatus(id, (r) => r.status === 'confirmed');
  t.is(w.explorer.confirmations(parent.txid), 2, 'the zero-fee parent confirmed, carried by its dearer child');
  t.is(w.explorer.confirmations(dear.txid), 2);
});
