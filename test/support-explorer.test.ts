// Proves the test explorer answers like Esplora in front of Bitcoin Core (finality, double spends,
// exact error strings, mining, reorgs, failure modes), since integration tests trust it blindly.
import test from 'ava';
import { request as httpRequest, type Agent } from 'node:http';
import type { Transaction } from 'bitcoinjs-lib';
import { TestExplorer } from './support/explorer.js';
import { makeTx, P2A_SCRIPT, p2wpkhScript, randomTxid } from './support/txs.js';
import { formatMoney } from './support/fee-market.js';
import { classifyPackage } from '../src/chain/package-answer.js';
import { until } from './support/wait.js';

interface Reply {
  status: number;
  type: string;
  body: string;
  bytes: number;
}

function call(url: string, opts: { method?: string; body?: string; timeoutMs?: number; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', agent: opts.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: all.toString('utf8'), bytes: all.length });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.timeoutMs !== undefined) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.end(opts.body);
  });
}

const rpc = (code: number, message: string) => `sendrawtransaction RPC error: {"code":${code},"message":"${message}"}`;
const NON_FINAL = rpc(-26, 'non-final');
const SPENT = rpc(-25, 'bad-txns-inputs-missingorspent');
const IN_CHAIN = rpc(-27, 'Transaction outputs already in utxo set');
const DECODE = rpc(-22, 'TX decode failed. Make sure the tx has at least one input.');

async function started(t: { teardown(fn: () => unknown): void }, opts: Parameters<typeof TestExplorer.start>[0] = {}): Promise<TestExplorer> {
  const explorer = await TestExplorer.start(opts);
  t.teardown(() => explorer.close());
  return explorer;
}

const post = (e: TestExplorer, hex: string) => call(`${e.url}/tx`, { method: 'POST', body: hex });

const wtxid = (tx: Transaction) => Buffer.from(tx.getHash(true)).reverse().toString('hex');

/** Core's CFeeRate::ToString for `fee` over `vsize`. */
const rateText = (fee: number, vsize: number) => {
  const perKvb = Math.floor((fee * 1000) / vsize);
  return `${Math.floor(perKvb / 1e8)}.${String(perKvb % 1e8).padStart(8, '0')} BTC/kvB`;
};

test('listens on 127.0.0.1 with every route under /api', async (t) => {
  const e = await started(t);
  t.regex(e.url, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
  t.is(e.url, `http://127.0.0.1:${e.port}/api`);
  const outside = await call(`http://127.0.0.1:${e.port}/blocks/tip/height`);
  t.is(outside.status, 404);
});

test('tip and block routes have Esplora shapes; MTP is the median of the last 11 block times', async (t) => {
  const e = await started(t, { startHeight: 200, startTime: 1_700_000_000 });
  const height = await call(`${e.url}/blocks/tip/height`);
  t.is(height.status, 200);
  t.is(height.body, '200');
  t.regex(height.type, /^text\/plain/);
  const hash = await call(`${e.url}/blocks/tip/hash`);
  t.regex(hash.body, /^[0-9a-f]{64}$/);
  t.deepEqual(e.tip(), { height: 200, hash: hash.body, medianTime: 1_700_000_000 - 5 * 600 });

  const block = await call(`${e.url}/block/${hash.body}`);
  t.is(block.status, 200);
  t.regex(block.type, /^application\/json/);
  const json = JSON.parse(block.body);
  t.like(json, { id: hash.body, height: 200, timestamp: 1_700_000_000, mediantime: 1_700_000_000 - 3000, tx_count: 1 });
  t.is(json.previousblockhash, e.blockAt(199)?.hash);
  for (const key of ['version', 'size', 'weight', 'merkle_root', 'nonce', 'bits', 'difficulty']) t.true(key in json, key);

  const parent = JSON.parse((await call(`${e.url}/block/${json.previousblockhash}`)).body);
  t.is(parent.height, 199);
  t.is(parent.timestamp, 1_700_000_000 - 600);

  const missing = await call(`${e.url}/block/${'0'.repeat(64)}`);
  t.is(missing.status, 404);
  t.is(missing.body, 'Block not found');
  t.is((await call(`${e.url}/block/nothex`)).status, 400);
  t.is((await call(`${e.url}/block-height/199`)).body, parent.id);
});

test('MTP near genesis follows Core: upper middle of the available times', async (t) => {
  const e = await started(t, { startHeight: 3, startTime: 1_700_000_000 });
  // Four blocks, sorted times [t-1800, t-1200, t-600, t]: Core picks index 4/2 = 2.
  t.is(e.tip().medianTime, 1_700_000_000 - 600);
  const genesis = JSON.parse((await call(`${e.url}/block/${e.blockAt(0)!.hash}`)).body);
  t.is(genesis.previousblockhash, null);
});

test('mining: +600 s per block by default, linked hashes, MTP moves, timeStep honoured but never at or below MTP', async (t) => {
  const e = await started(t, { startHeight: 100, startTime: 1_700_000_000 });
  const before = e.tip();
  const hashes = e.mine(3);
  t.is(hashes.length, 3);
  t.is(e.tip().height, 103);
  t.is(e.tip().hash, hashes[2]!);
  t.is(e.tip().medianTime, before.medianTime + 3 * 600);
  t.is(e.blockAt(103)?.time, 1_700_000_000 + 1800);
  const b102 = JSON.parse((await call(`${e.url}/block/${hashes[1]}`)).body);
  t.is(b102.previousblockhash, hashes[0]);
  t.is(new Set([before.hash, ...hashes]).size, 4);

  e.mine(1, { timeStep: 7200 });
  t.is(e.blockAt(104)?.time, 1_700_000_000 + 1800 + 7200);
  const mtp = e.blockAt(104)!.medianTime;
  e.mine(1, { timeStep: -100_000 });
  t.is(e.blockAt(105)?.time, mtp + 1, 'clamped to parent MTP + 1');
});

test('height locktime: final for the next block exactly when locktime <= tip height', async (t) => {
  const e = await started(t, { startHeight: 500 });
  const cases: Array<{ name: string; locktime: number; sequence?: number; accepted: boolean }> = [
    { name: 'L = tip - 1', locktime: 499, accepted: true },
    { name: 'L = tip', locktime: 500, accepted: true },
    { name: 'L = tip + 1', locktime: 501, accepted: false },
    { name: 'L = tip + 1 but every input final', locktime: 501, sequence: 0xffffffff, accepted: true },
    { name: 'L = 0', locktime: 0, accepted: true },
    { name: 'L = 499999999 (largest height)', locktime: 499_999_999, accepted: false },
  ];
  for (const c of cases) {
    const tx = makeTx({ locktime: c.locktime, inputs: [{ txid: randomTxid(), vout: 0, ...(c.sequence !== undefined ? { sequence: c.sequence } : {}) }] });
    const res = await post(e, tx.hex);
    t.is(res.status, c.accepted ? 200 : 400, c.name);
    t.is(res.body, c.accepted ? tx.txid : NON_FINAL, c.name);
    t.is(e.accepted(tx.txid), c.accepted, c.name);
  }
  const next = makeTx({ locktime: 501 });
  t.is((await post(e, next.hex)).body, NON_FINAL);
  e.mine(1);
  t.is((await post(e, next.hex)).body, next.txid, 'final once the tip reaches L');
});

test('time locktime: final exactly when the tip MTP is strictly above it', async (t) => {
  const e = await started(t);
  const mtp = e.tip().medianTime;
  t.true(mtp >= 500_000_000);
  const cases = [
    { name: 'T = MTP - 1', locktime: mtp - 1, accepted: true },
    { name: 'T = MTP', locktime: mtp, accepted: false },
    { name: 'T = MTP + 1', locktime: mtp + 1, accepted: false },
    { name: 'T = 500000000 (smallest time)', locktime: 500_000_000, accepted: true },
  ];
  for (const c of cases) {
    const tx = makeTx({ locktime: c.locktime });
    const res = await post(e, tx.hex);
    t.is(res.body, c.accepted ? tx.txid : NON_FINAL, c.name);
  }
  const atMtp = makeTx({ locktime: mtp });
  t.is((await post(e, atMtp.hex)).body, NON_FINAL);
  e.mine(1);
  t.true(e.tip().medianTime > mtp);
  t.is((await post(e, atMtp.hex)).body, atMtp.txid, 'final once MTP passes T');
});

test('double spends, resubmission and confirmed transactions answer exactly as Core via Esplora', async (t) => {
  const e = await started(t);
  const h = e.tip().height;

  const prev = randomTxid();
  e.spendElsewhere(prev, 1);
  const spendsForeign = makeTx({ locktime: h, inputs: [{ txid: prev, vout: 1 }] });
  const foreign = await post(e, spendsForeign.hex);
  t.is(foreign.status, 400);
  t.is(foreign.body, SPENT);
  t.false(e.accepted(spendsForeign.txid));
  const otherVout = makeTx({ locktime: h, inputs: [{ txid: prev, vout: 0 }] });
  t.is((await post(e, otherVout.hex)).body, otherVout.txid, 'only the marked outpoint is spent');

  const shared = randomTxid();
  const first = makeTx({ locktime: h, inputs: [{ txid: shared, vout: 0 }] });
  const second = makeTx({ locktime: h, inputs: [{ txid: shared, vout: 0 }] });
  t.is((await post(e, first.hex)).body, first.txid);
  t.is((await post(e, second.hex)).body, SPENT, 'conflicts with a mempool transaction');
  const again = await post(e, first.hex);
  t.is(again.status, 200, 'already in the mempool: Core answers the txid');
  t.is(again.body, first.txid);

  e.mine(1);
  t.is((await post(e, second.hex)).body, SPENT, 'conflicts with a confirmed transaction');
  const confirmed = await post(e, first.hex);
  t.is(confirmed.status, 400);
  t.is(confirmed.body, IN_CHAIN);
  t.deepEqual(
    e.received.filter((r) => r.txid === first.txid).map((r) => r.hex),
    [first.hex, first.hex, first.hex],
    'every POST that reached validation is recorded',
  );
});

test('undecodable bodies answer -22 and are recorded with an empty txid', async (t) => {
  const e = await started(t);
  const good = makeTx({ locktime: 0 });
  const cases = [
    ['not hex', 'zz'],
    ['empty', ''],
    ['odd length', good.hex.slice(0, -1)],
    ['truncated', good.hex.slice(0, -2)],
    ['trailing newline', `${good.hex}\n`],
    ['trailing bytes', `${good.hex}00`],
  ] as const;
  for (const [name, body] of cases) {
    const res = await post(e, body);
    t.is(res.status, 400, name);
    t.is(res.body, DECODE, name);
  }
  t.is(e.received.length, cases.length);
  t.true(e.received.every((r) => r.txid === ''));
  t.false(e.accepted(good.txid));
});

test('transaction routes: mempool, confirmed, unknown; confirmations count', async (t) => {
  const e = await started(t, { startHeight: 300 });
  const tx = makeTx({ locktime: 300, outputs: 2 });
  await post(e, tx.hex);

  const mem = JSON.parse((await call(`${e.url}/tx/${tx.txid}`)).body);
  t.like(mem, { txid: tx.txid, version: 2, locktime: 300, status: { confirmed: false } });
  t.is(mem.vout.length, 2);
  t.is(mem.vout[0].scriptpubkey_type, 'v0_p2wpkh');
  t.is(mem.vin[0].sequence, 0xfffffffe);
  t.deepEqual(JSON.parse((await call(`${e.url}/tx/${tx.txid}/status`)).body), { confirmed: false });
  t.is((await call(`${e.url}/tx/${tx.txid}/hex`)).body, tx.hex);
  t.is(e.confirmations(tx.txid), 0);

  const [blockHash] = e.mine(1);
  const status = { confirmed: true, block_height: 301, block_hash: blockHash, block_time: e.blockAt(301)!.time };
  t.deepEqual(JSON.parse((await call(`${e.url}/tx/${tx.txid}/status`)).body), status);
  t.deepEqual(JSON.parse((await call(`${e.url}/tx/${tx.txid}`)).body).status, status);
  t.is(JSON.parse((await call(`${e.url}/block/${blockHash}`)).body).tx_count, 2);
  t.is(e.confirmations(tx.txid), 1);
  e.mine(2);
  t.is(e.confirmations(tx.txid), 3);

  const unknown = randomTxid();
  for (const suffix of ['', '/status', '/hex']) {
    const res = await call(`${e.url}/tx/${unknown}${suffix}`);
    t.is(res.status, 404, suffix);
    t.is(res.body, 'Transaction not found', suffix);
  }
  t.is((await call(`${e.url}/tx/xyz/status`)).status, 400);
});

test('unknownTxStatus "unconfirmed" answers unknown txids as electrs really does', async (t) => {
  const e = await started(t, { unknownTxStatus: 'unconfirmed' });
  const res = await call(`${e.url}/tx/${randomTxid()}/status`);
  t.is(res.status, 200);
  t.deepEqual(JSON.parse(res.body), { confirmed: false });
  t.is((await call(`${e.url}/tx/${randomTxid()}`)).status, 404);
});

test('segwit transactions: txid excludes the witness, /hex returns the full serialization', async (t) => {
  const e = await started(t);
  const tx = makeTx({ locktime: e.tip().height, segwit: true });
  t.true(tx.tx.hasWitnesses());
  t.is((await post(e, tx.hex)).body, tx.txid);
  t.is((await call(`${e.url}/tx/${tx.txid}/hex`)).body, tx.hex);
  const json = JSON.parse((await call(`${e.url}/tx/${tx.txid}`)).body);
  t.is(json.vin[0].witness.length, 2);
  t.true(json.weight < json.size * 4, 'witness bytes are discounted');
});

test('reorg: the dropped blocks\' transactions vanish, new hashes, the outpoints are free again', async (t) => {
  const e = await started(t);
  const h = e.tip().height;
  const deep = makeTx({ locktime: h });
  await post(e, deep.hex);
  e.mine(1);
  const shallowInput = { txid: randomTxid(), vout: 0 };
  const shallow = makeTx({ locktime: h, inputs: [shallowInput] });
  await post(e, shallow.hex);
  const [oldTip] = e.mine(1);

  const replaced = e.reorg(1);
  t.is(replaced.length, 1);
  t.is(e.tip().height, h + 2);
  t.not(e.tip().hash, oldTip);
  t.is(e.tip().hash, replaced[0]!);
  t.false(e.accepted(shallow.txid), 'gone, not back in the mempool');
  t.false(e.inMempool(shallow.txid));
  t.is(e.confirmations(shallow.txid), 0);
  t.is((await call(`${e.url}/tx/${shallow.txid}/status`)).status, 404);
  t.is((await call(`${e.url}/block/${oldTip}`)).status, 404);
  t.is(e.blockAt(h + 2)?.txids.length, 0);
  t.is(e.confirmations(deep.txid), 2, 'the deeper block survives');

  const rival = makeTx({ locktime: h, inputs: [shallowInput] });
  t.is((await post(e, rival.hex)).body, rival.txid, 'its inputs were freed: a rival spend is accepted');
  t.is((await post(e, shallow.hex)).body, SPENT);
  t.true(e.evict(rival.txid));
  t.is((await post(e, shallow.hex)).body, shallow.txid, 'and the same transaction can come back');
  t.throws(() => e.reorg(10_000));
});

test('evict removes from the mempool and frees the inputs', async (t) => {
  const e = await started(t);
  const input = { txid: randomTxid(), vout: 3 };
  const tx = makeTx({ locktime: 0, inputs: [input] });
  const rival = makeTx({ locktime: 0, inputs: [input] });
  await post(e, tx.hex);
  t.is((await post(e, rival.hex)).body, SPENT);
  t.true(e.evict(tx.txid));
  t.false(e.accepted(tx.txid));
  t.is((await call(`${e.url}/tx/${tx.txid}`)).status, 404);
  t.false(e.evict(tx.txid), 'already gone');
  t.is((await post(e, rival.hex)).body, rival.txid);
  e.mine(1);
  t.false(e.evict(rival.txid), 'confirmed transactions are not in the mempool');
});

test('requireBip68: non-BIP68-final until the tip reaches the given height', async (t) => {
  const e = await started(t);
  const h = e.tip().height;
  const tx = makeTx({ locktime: h });
  e.requireBip68(tx.txid, h + 2);
  t.is((await post(e, tx.hex)).body, rpc(-26, 'non-BIP68-final'));
  e.mine(1);
  t.is((await post(e, tx.hex)).body, rpc(-26, 'non-BIP68-final'));
  e.mine(1);
  t.is((await post(e, tx.hex)).body, tx.txid);
  t.true(e.accepted(tx.txid));
});

test('lag freezes the tip routes only', async (t) => {
  const e = await started(t);
  const frozen = e.tip();
  e.lag(true);
  e.mine(2);
  t.is((await call(`${e.url}/blocks/tip/height`)).body, String(frozen.height));
  t.is((await call(`${e.url}/blocks/tip/hash`)).body, frozen.hash);
  t.is(e.tip().height, frozen.height + 2);
  t.is((await call(`${e.url}/block-height/${frozen.height + 2}`)).body, e.tip().hash);
  e.lag(false);
  t.is((await call(`${e.url}/blocks/tip/height`)).body, String(frozen.height + 2));
});

test('failure modes: down, error500, garbage, slow; then ok again', async (t) => {
  const e = await started(t);
  const tx = makeTx({ locktime: 0 });

  e.setMode('down');
  await t.throwsAsync(call(`${e.url}/blocks/tip/height`));
  await t.throwsAsync(post(e, tx.hex));
  t.is(e.requests.length, 0, 'nothing reaches the routes');

  e.setMode('error500');
  for (const res of [await call(`${e.url}/blocks/tip/hash`), await post(e, tx.hex)]) {
    t.is(res.status, 500);
    t.is(res.body, 'Internal Server Error');
  }

  e.setMode('garbage');
  const junk = await call(`${e.url}/tx/${tx.txid}/status`);
  t.is(junk.status, 200);
  t.is(junk.bytes, 5 * 1024 * 1024);

  t.deepEqual(e.received, [], 'error500, garbage and down never validate');

  e.setMode('slow');
  await t.throwsAsync(call(`${e.url}/tx`, { method: 'POST', body: tx.hex, timeoutMs: 200 }), { message: 'client timeout' });
  t.false(e.accepted(tx.txid), 'a held request is not processed');
  t.is(e.requests.at(-1)?.path, '/api/tx');

  e.setMode('ok');
  t.is((await post(e, tx.hex)).body, tx.txid);
  t.deepEqual(e.requests.slice(0, 2), [
    { method: 'GET', path: '/api/blocks/tip/hash' },
    { method: 'POST', path: '/api/tx' },
  ]);
});

test('slow answers normally once the hold is over (short slowMs)', async (t) => {
  const e = await started(t, { slowMs: 100 });
  e.setMode('slow');
  const tx = makeTx({ locktime: 0 });
  const res = await post(e, tx.hex);
  t.is(res.body, tx.txid);
  t.true(e.accepted(tx.txid));
});

test('close() returns while a request is held', async (t) => {
  const e = await TestExplorer.start();
  e.setMode('slow');
  const pending = call(`${e.url}/blocks/tip/height`);
  await until(() => e.requests.length > 0, 'the explorer holds the request', 10_000, 5);
  await e.close();
  await t.throwsAsync(pending);
});

test('waitForReceived resolves on receipt and rejects on timeout', async (t) => {
  const e = await started(t);
  const tx = makeTx({ locktime: 0 });
  const waiting = e.waitForReceived(tx.txid, 10_000);
  await post(e, tx.hex);
  await t.notThrowsAsync(waiting);
  await t.notThrowsAsync(e.waitForReceived(tx.txid, 1), 'already received');
  await t.throwsAsync(e.waitForReceived(randomTxid(), 20), { message: /did not receive/ });
});

test('two explorers with different names have different chains', async (t) => {
  const a = await started(t, { name: 'a' });
  const b = await started(t, { name: 'b' });
  t.not(a.tip().hash, b.tip().hash);
  const again = await started(t, { name: 'a' });
  t.is(again.tip().hash, a.tip().hash, 'deterministic for one name');
});

// ---- fee market -----------------------------------------------------------------------------

const postPackage = (e: TestExplorer, hexes: string[], path = '/txs/package') => call(`${e.url}${path}`, { method: 'POST', body: JSON.stringify(hexes) });

function coin(e: TestExplorer, value: number): { txid: string; vout: number } {
  const txid = randomTxid();
  e.fund(txid, 0, value);
  return { txid, vout: 0 };
}

/** A transaction spending `inputs` worth `inValue` that pays exactly `fee` (one output, or one plus a P2A anchor). */
function paying(inputs: Array<{ txid: string; vout: number }>, inValue: number, fee: number, opts: { version?: number; anchor?: boolean; outputs?: number } = {}) {
  const n = opts.outputs ?? 1;
  const each = Math.floor((inValue - fee) / n);
  const outs = Array.from({ length: n }, (_, i) => ({ script: p2wpkhScript(), value: BigInt(i === 0 ? inValue - fee - each * (n - 1) : each) }));
  if (opts.anchor) outs.push({ script: P2A_SCRIPT, value: 0n });
  return makeTx({ locktime: 0, inputs, outs, version: opts.version ?? 2 });
}

test('fees: known coin values, min relay fee not met, mempool min fee not met, exact at the boundary', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const input = coin(e, 100_000);
  const vsize = paying([input], 100_000, 0).tx.virtualSize();
  t.is((await post(e, paying([input], 100_000, 0).hex)).body, rpc(-26, `min relay fee not met, 0 < ${vsize}`));
  t.is((await post(e, paying([input], 100_000, vsize - 1).hex)).body, rpc(-26, `min relay fee not met, ${vsize - 1} < ${vsize}`));

  e.setMempoolMinFee(5);
  t.is((await post(e, paying([input], 100_000, 2 * vsize).hex)).body, rpc(-26, `mempool min fee not met, ${2 * vsize} < ${5 * vsize}`));
  const enough = paying([input], 100_000, 5 * vsize);
  t.is((await post(e, enough.hex)).body, enough.txid, 'exactly the minimum passes');
  t.is(e.feeOf(enough.txid), BigInt(5 * vsize));
  t.is(JSON.parse((await call(`${e.url}/tx/${enough.txid}`)).body).fee, 5 * vsize);

  t.is((await post(e, makeTx({ locktime: 0 }).hex)).body, SPENT, 'a coin nobody funded is missing, as in Core');
  const overspend = paying([coin(e, 1000)], 1000, -1);
  t.is((await post(e, overspend.hex)).body, rpc(-26, 'bad-txns-in-belowout, value in (0.00001) < value out (0.00001001)'));
});

test('replacement: a higher fee rate than each replaced, and at least their fees plus its own size at 1 sat/vB', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const input = coin(e, 100_000);
  const original = paying([input], 100_000, 1400, { outputs: 2 });
  t.is((await post(e, original.hex)).body, original.txid);
  const child = paying([{ txid: original.txid, vout: 0 }], Number(original.tx.outs[0]!.value), 500);
  t.is((await post(e, child.hex)).body, child.txid);
  const oldRate = rateText(1400, original.tx.virtualSize());

  const lowerRate = paying([input], 100_000, 1400, { outputs: 3 });
  t.is((await post(e, lowerRate.hex)).body, rpc(-26, `insufficient fee, rejecting replacement ${lowerRate.txid}; new feerate ${rateText(1400, lowerRate.tx.virtualSize())} <= old feerate ${oldRate}`));
  const lessFees = paying([input], 100_000, 1800);
  t.true(1800 / lessFees.tx.virtualSize() > 1400 / original.tx.virtualSize(), 'a higher fee rate');
  t.is((await post(e, lessFees.hex)).body, rpc(-26, `insufficient fee, rejecting replacement ${lessFees.txid}, less fees than conflicting txs; 0.000018 < 0.000019`), 'the child\'s fee counts too');
  const vsize = paying([input], 100_000, 0).tx.virtualSize();
  const noRelay = paying([input], 100_000, 1900 + vsize - 1);
  t.is((await post(e, noRelay.hex)).body, rpc(-26, `insufficient fee, rejecting replacement ${noRelay.txid}, not enough additional fees to relay; ${formatMoney(BigInt(vsize - 1))} < ${formatMoney(BigInt(vsize))}`));
  t.true(e.inMempool(original.txid) && e.inMempool(child.txid), 'refused replacements change nothing');

  const replacement = paying([input], 100_000, 1900 + vsize);
  t.is((await post(e, replacement.hex)).body, replacement.txid, 'exactly old fees + own size passes');
  t.false(e.accepted(original.txid));
  t.false(e.accepted(child.txid), 'descendants of the replaced go too');
  t.true(e.inMempool(replacement.txid));
});

test('replacement needs known fees: without them a conflict stays a spent input', async (t) => {
  const e = await started(t);
  const shared = { txid: randomTxid(), vout: 0 };
  t.is((await post(e, makeTx({ locktime: 0, inputs: [shared] }).hex)).status, 200);
  t.is((await post(e, makeTx({ locktime: 0, inputs: [shared] }).hex)).body, SPENT);
});

/** A zero-fee v3 parent with a P2A anchor and a v3 child spending the anchor and a coin for the fee. */
function anchored(e: TestExplorer, childFee: number, opts: { version?: number; parentCoin?: { txid: string; vout: number } } = {}) {
  const parent = paying([opts.parentCoin ?? coin(e, 100_000)], 100_000, 0, { version: opts.version ?? 3, anchor: true });
  const child = paying([{ txid: parent.txid, vout: 1 }, coin(e, 20_000)], 20_000, childFee, { version: opts.version ?? 3 });
  return { parent, child, vsize: parent.tx.virtualSize() + child.tx.virtualSize() };
}

test('packages: a zero-fee v3 parent with a P2A anchor enters only with its child, at the package fee rate', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const probe = anchored(e, 0);
  const { parent, child, vsize } = anchored(e, probe.vsize - 1);
  t.deepEqual([...parent.tx.outs[1]!.script], [0x51, 0x02, 0x4e, 0x73]);
  t.is((await post(e, parent.hex)).body, rpc(-26, `min relay fee not met, 0 < ${parent.tx.virtualSize()}`), 'alone it is refused');

  const low = JSON.parse((await postPackage(e, [parent.hex, child.hex])).body);
  t.is(low.package_msg, 'transaction failed');
  t.deepEqual(Object.values(low['tx-results']), [
    { txid: parent.txid, error: 'package-not-validated' },
    { txid: child.txid, error: `min relay fee not met, ${vsize - 1} < ${vsize}` },
  ]);
  t.is(classifyPackage(200, JSON.stringify(low)).kind, 'fee_too_low', 'our classifier reads it as a fee refusal');
  t.false(e.accepted(parent.txid));

  const good = anchored(e, 4 * vsize);
  e.setMempoolMinFee(5);
  const belowFloor = JSON.parse((await postPackage(e, [good.parent.hex, good.child.hex])).body);
  t.is(belowFloor['tx-results'][wtxid(good.child.tx)].error, `mempool min fee not met, ${4 * vsize} < ${5 * vsize}`);
  e.setMempoolMinFee(0);
  const res = await postPackage(e, [good.parent.hex, good.child.hex]);
  t.is(res.status, 200);
  const ok = JSON.parse(res.body);
  t.is(ok.package_msg, 'success');
  const parentEntry = ok['tx-results'][good.parent.txid];
  t.like(parentEntry, { txid: good.parent.txid, vsize: good.parent.tx.virtualSize(), fees: { base: 0 } });
  t.is(parentEntry.fees['effective-feerate'], Math.floor((4 * vsize * 1000) / vsize) / 1e8);
  t.is(parentEntry.fees['effective-includes'].length, 2);
  t.deepEqual(ok['replaced-transactions'], []);
  t.is(classifyPackage(200, res.body).kind, 'accepted');
  t.true(e.inMempool(good.parent.txid) && e.inMempool(good.child.txid));

  const again = JSON.parse((await postPackage(e, [good.parent.hex, good.child.hex])).body);
  t.is(again.package_msg, 'success', 'already in the mempool is success');
  t.false('effective-feerate' in again['tx-results'][good.parent.txid].fees);
  t.deepEqual(e.packages.at(-1), [good.parent.txid, good.child.txid]);
  t.true(e.received.some((r) => r.txid === good.child.txid), 'package transactions are recorded as received');
  e.mine(1);
  t.is(e.confirmations(good.parent.txid), 1);
  const confirmed = JSON.parse((await postPackage(e, [good.parent.hex, good.child.hex])).body);
  t.is(confirmed['tx-results'][good.parent.txid].error, 'txn-already-known');
});

test('packages: a non-TRUC parent below the minimum relay fee is refused even with a rich child', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const { parent, child } = anchored(e, 10_000, { version: 2 });
  const body = JSON.parse((await postPackage(e, [parent.hex, child.hex])).body);
  t.is(body.package_msg, 'transaction failed');
  t.is(body['tx-results'][parent.txid].error, `min relay fee not met, 0 < ${parent.tx.virtualSize()}`);
});

test('packages: replacing a sibling child, and package RBF of a conflicting parent, pay for what they evict', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const parentCoin = coin(e, 100_000);
  const first = anchored(e, 2000, { parentCoin });
  t.is(JSON.parse((await postPackage(e, [first.parent.hex, first.child.hex])).body).package_msg, 'success');

  const cheap = paying([{ txid: first.parent.txid, vout: 1 }, coin(e, 20_000)], 20_000, 2100, { version: 3 });
  const refused = JSON.parse((await postPackage(e, [first.parent.hex, cheap.hex])).body);
  t.is(refused.package_msg, 'transaction failed');
  t.regex(refused['tx-results'][wtxid(cheap.tx)].error, /^insufficient fee, rejecting replacement [0-9a-f]{64}, not enough additional fees to relay/);
  t.is(classifyPackage(200, JSON.stringify(refused)).kind, 'fee_too_low');
  const sibling = paying([{ txid: first.parent.txid, vout: 1 }, coin(e, 20_000)], 20_000, 3000, { version: 3 });
  const replaced = JSON.parse((await postPackage(e, [first.parent.hex, sibling.hex])).body);
  t.is(replaced.package_msg, 'success');
  t.deepEqual(replaced['replaced-transactions'], [first.child.txid]);
  t.false(e.accepted(first.child.txid));

  const rival = anchored(e, 3000 + 10, { parentCoin });
  const antiDos = JSON.parse((await postPackage(e, [rival.parent.hex, rival.child.hex])).body);
  t.regex(antiDos.package_msg, /^package RBF failed: insufficient anti-DoS fees, rejecting replacement [0-9a-f]{64}, not enough additional fees to relay/);
  t.is(classifyPackage(200, JSON.stringify(antiDos)).kind, 'fee_too_low');
  const winner = anchored(e, 3000 + rival.vsize + 500, { parentCoin });
  const won = JSON.parse((await postPackage(e, [winner.parent.hex, winner.child.hex])).body);
  t.is(won.package_msg, 'success');
  t.deepEqual(new Set(won['replaced-transactions']), new Set([first.parent.txid, sibling.txid]));
});

test('packages: topology, decoding, size, and the switchable endpoint', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const { parent, child } = anchored(e, 5000);
  const stranger = paying([coin(e, 50_000)], 50_000, 500);
  const topology = rpc(-25, 'package topology disallowed. not child-with-parents or parents depend on each other.').replace('sendrawtransaction', 'submitpackage');
  t.is((await postPackage(e, [stranger.hex, child.hex])).body, topology, 'a parent the child does not spend');
  t.is((await postPackage(e, [child.hex, parent.hex])).body, topology, 'the child must come last');
  t.is((await postPackage(e, [parent.hex, 'zz'])).body, rpc(-22, 'TX decode failed for tx 1. Make sure the tx has at least one input.').replace('sendrawtransaction', 'submitpackage'));
  t.is((await postPackage(e, Array.from({ length: 26 }, () => parent.hex))).body, 'Exceeded maximum of 25 transactions');
  t.is((await call(`${e.url}/txs/package`, { method: 'POST', body: parent.hex })).status, 400, 'not a JSON array');
  t.is(JSON.parse((await postPackage(e, [stranger.hex])).body).package_msg, 'success', 'one transaction is a package too');

  e.setPackageEndpoint('/v1/txs/package');
  t.is((await postPackage(e, [parent.hex, child.hex])).status, 404);
  t.is(JSON.parse((await postPackage(e, [parent.hex, child.hex], '/v1/txs/package')).body).package_msg, 'success');
  e.setPackageEndpoint('none');
  for (const path of ['/txs/package', '/v1/txs/package']) t.is((await postPackage(e, [parent.hex, child.hex], path)).status, 404, path);
});

test('mining with a minimum fee rate leaves out what pays less; a child pays for its parent', async (t) => {
  const e = await started(t, { knownInputsOnly: true });
  const low = paying([coin(e, 100_000)], 100_000, 2 * 110);
  await post(e, low.hex);
  const high = paying([coin(e, 100_000)], 100_000, 20 * low.tx.virtualSize());
  await post(e, high.hex);
  const probe = anchored(e, 0);
  const cpfp = anchored(e, 15 * probe.vsize);
  await postPackage(e, [cpfp.parent.hex, cpfp.child.hex]);
  t.is(e.feeOf(low.txid), 220n);

  const [hash] = e.mine(1, { minFeeRate: 10 });
  const block = e.blockAt(e.tip().height)!;
  t.is(block.hash, hash!);
  t.deepEqual(new Set(block.txids), new Set([high.txid, cpfp.parent.txid, cpfp.child.txid]));
  t.true(block.txids.indexOf(cpfp.parent.txid) < block.txids.indexOf(cpfp.child.txid), 'parents first');
  t.true(e.inMempool(low.txid), 'too cheap for this block');
  e.mine(1);
  t.is(e.confirmations(low.txid), 1, 'without a minimum everything is mined');
});

test('GET /fee-estimates answers what was set ({} until then, as Esplora on regtest)', async (t) => {
  const e = await started(t);
  t.deepEqual(JSON.parse((await call(`${e.url}/fee-estimates`)).body), {});
  e.setFeeEstimates({ '1': 40.5, '6': 12, '144': 1 });
  const res = await call(`${e.url}/fee-estimates`);
  t.regex(res.type, /^application\/json/);
  t.deepEqual(JSON.parse(res.body), { '1': 40.5, '6': 12, '144': 1 });
});
