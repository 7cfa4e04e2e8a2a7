// Proves the test explorer answers like Esplora in front of Bitcoin Core (finality, double spends,
// exact error strings, mining, reorgs, failure modes), since integration tests trust it blindly.
import test from 'ava';
import { request as httpRequest, type Agent } from 'node:http';
import { TestExplorer } from './support/explorer.js';
import { makeTx, randomTxid } from './support/txs.js';

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
  while (e.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
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
