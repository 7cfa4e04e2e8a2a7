// SPEC §5, §7: the broadcaster sends a rung to every explorer through a real SOCKS5 server, each
// over its own circuit: one transaction to POST /tx, a package to /txs/package, then
// /v1/txs/package after a 404, then one by one; and says what the network made of it.
import test from 'ava';
import { TestExplorer, type PackageEndpoint } from './support/explorer.js';
import { TestSocksServer } from './support/socks5-server.js';
import { makeTx, P2A_SCRIPT, p2wpkhScript, randomTxid, type TestTx } from './support/txs.js';
import { Esplora } from '../src/chain/esplora.js';
import { EsploraBroadcaster } from '../src/engine/broadcaster.js';
import type { Ladder, Rung } from '../src/domain/bundle.js';
import { ownTxids } from '../src/engine/scheduler/ladders.js';
import { SocksTransport } from '../src/net/transport.js';
import type { Logger } from '../src/util/log.js';

const ENDPOINTS: Record<string, PackageEndpoint> = { 'esplora.test': '/txs/package', 'mempool.test': '/v1/txs/package', 'plain.test': 'none' };
const HOSTS = Object.keys(ENDPOINTS);

async function world(t: { teardown(fn: () => unknown): void }, hosts: readonly string[] = HOSTS) {
  const explorers = new Map<string, TestExplorer>();
  for (const host of hosts) explorers.set(host, await TestExplorer.start({ name: host, knownInputsOnly: true, packageEndpoint: ENDPOINTS[host]! }));
  const socks = await TestSocksServer.start({ resolve: (host) => (explorers.has(host) ? { host: '127.0.0.1', port: explorers.get(host)!.port } : null) });
  t.teardown(async () => {
    await socks.close();
    for (const e of explorers.values()) await e.close();
  });
  const transport = new SocksTransport(socks.url);
  const logged: Array<Record<string, unknown>> = [];
  const log: Logger = { log: (_level, event, fields) => logged.push({ event, ...fields }) };
  const broadcaster = new EsploraBroadcaster(
    hosts.map((h) => new Esplora(`http://${h}/api`, transport, { timeoutMs: 3000 })),
    log,
  );
  /** Declares a coin on every explorer (each is its own node). */
  const coin = (value: number) => {
    const txid = randomTxid();
    for (const e of explorers.values()) e.fund(txid, 0, value);
    return { txid, vout: 0 };
  };
  return { explorers, socks, broadcaster, coin, logged };
}

/** A rung as the opener makes it; the broadcaster reads only its transactions. */
const rung = (...txs: TestTx[]): Rung => ({
  fee: null,
  vsize: txs.reduce((sum, tx) => sum + tx.tx.virtualSize(), 0),
  feeRate: null,
  txs: txs.map((tx) => ({ txid: tx.txid, wtxid: Buffer.from(tx.tx.getHash(true)).reverse().toString('hex'), hex: tx.hex })),
});

/** A zero-fee v3 parent with a P2A anchor, and a v3 child spending the anchor and a coin of 20,000 sat. */
function anchored(coin: (value: number) => { txid: string; vout: number }, childFee: number, parentFee = 0) {
  const parent = makeTx({ locktime: 0, version: 3, inputs: [coin(100_000)], outs: [{ script: p2wpkhScript(), value: BigInt(100_000 - parentFee) }, { script: P2A_SCRIPT, value: 0n }] });
  const child = makeTx({ locktime: 0, version: 3, inputs: [{ txid: parent.txid, vout: 1 }, coin(20_000)], outs: [{ script: p2wpkhScript(), value: BigInt(20_000 - childFee) }] });
  return { parent, child };
}

const posts = (socks: TestSocksServer, host: string) =>
  socks.connections.filter((c) => c.host === host && c.firstLine?.startsWith('POST')).map((c) => ({ user: c.username, line: c.firstLine!.split(' ').slice(0, 2).join(' ') }));

test('one transaction goes to POST /tx at every explorer, each on its own fresh circuit, then is verified elsewhere', async (t) => {
  const w = await world(t);
  const tx = makeTx({ locktime: 0, inputs: [w.coin(100_000)], outs: [{ script: p2wpkhScript(), value: 99_000n }] });
  t.deepEqual(await w.broadcaster.broadcast(rung(tx)), { kind: 'accepted', verified: true });
  for (const e of w.explorers.values()) t.true(e.inMempool(tx.txid), e.name);
  const users = HOSTS.map((h) => posts(w.socks, h)[0]!.user);
  t.deepEqual(HOSTS.map((h) => posts(w.socks, h).map((p) => p.line)), HOSTS.map(() => ['POST /api/tx']));
  t.is(new Set(users).size, 3, 'a credential per explorer');
  const checks = w.socks.connections.filter((c) => c.firstLine?.startsWith(`GET /api/tx/${tx.txid}`));
  t.is(checks.length, 1);
  t.false(users.includes(checks[0]!.username), 'verified over another circuit');
});

test('a package: /txs/package, /v1/txs/package after a 404, one by one without either; each explorer remembered', async (t) => {
  const w = await world(t);
  // The parent pays its own way here, so that even the explorer without packages can take it.
  const first = anchored(w.coin, 5000, 300);
  t.deepEqual(await w.broadcaster.broadcast(rung(first.parent, first.child)), { kind: 'accepted', verified: true });
  for (const e of w.explorers.values()) t.true(e.inMempool(first.child.txid) && e.inMempool(first.parent.txid), e.name);
  t.deepEqual(posts(w.socks, 'esplora.test').map((p) => p.line), ['POST /api/txs/package']);
  t.deepEqual(posts(w.socks, 'mempool.test').map((p) => p.line), ['POST /api/txs/package', 'POST /api/v1/txs/package']);
  t.deepEqual(posts(w.socks, 'plain.test').map((p) => p.line), ['POST /api/txs/package', 'POST /api/v1/txs/package', 'POST /api/tx', 'POST /api/tx']);
  t.deepEqual(w.explorers.get('plain.test')!.received.map((r) => r.txid).slice(-2), [first.parent.txid, first.child.txid], 'parents first');
  for (const host of HOSTS) t.is(new Set(posts(w.socks, host).map((p) => p.user)).size, 1, `one circuit for the whole attempt at ${host}`);
  t.deepEqual(
    new Set(w.logged.filter((l) => l.event === 'package_route').map((l) => `${l.explorer} ${l.route}`)),
    new Set(['esplora.test /txs/package', 'mempool.test /v1/txs/package', 'plain.test one_by_one']),
  );

  const before = new Map(HOSTS.map((h) => [h, posts(w.socks, h).length]));
  const second = anchored(w.coin, 5000, 300);
  t.is((await w.broadcaster.broadcast(rung(second.parent, second.child))).kind, 'accepted');
  t.deepEqual(posts(w.socks, 'mempool.test').slice(before.get('mempool.test')!).map((p) => p.line), ['POST /api/v1/txs/package'], 'straight to the path that worked');
  t.deepEqual(posts(w.socks, 'plain.test').slice(before.get('plain.test')!).map((p) => p.line), ['POST /api/tx', 'POST /api/tx']);
  const firstUsers = new Set(HOSTS.flatMap((h) => posts(w.socks, h).slice(0, before.get(h)!).map((p) => p.user)));
  t.false(HOSTS.some((h) => posts(w.socks, h).slice(before.get(h)!).some((p) => firstUsers.has(p.user))), 'a fresh circuit per attempt');
});

test('a zero-fee parent: accepted as a package; refused for its fee where it can only go one by one', async (t) => {
  const packages = await world(t, ['esplora.test', 'mempool.test']);
  const { parent, child } = anchored(packages.coin, 5000);
  t.deepEqual(await packages.broadcaster.broadcast(rung(parent, child)), { kind: 'accepted', verified: true });

  const plain = await world(t, ['plain.test']);
  const alone = anchored(plain.coin, 5000);
  const outcome = await plain.broadcaster.broadcast(rung(alone.parent, alone.child));
  t.is(outcome.kind, 'fee_too_low');
  t.deepEqual(plain.explorers.get('plain.test')!.received.map((r) => r.txid), [alone.parent.txid], 'the child is not sent after its parent was refused');
});

test('refused for its fee: a single transaction, and a package below the package fee rate', async (t) => {
  const w = await world(t, ['esplora.test', 'mempool.test']);
  for (const e of w.explorers.values()) e.setMempoolMinFee(50);
  const single = makeTx({ locktime: 0, inputs: [w.coin(100_000)], outs: [{ script: p2wpkhScript(), value: 99_000n }] });
  const refused = await w.broadcaster.broadcast(rung(single));
  t.is(refused.kind, 'fee_too_low');
  if (refused.kind === 'fee_too_low') t.regex(refused.reason, /^mempool min fee not met, 1000 < \d+$/);
  const { parent, child } = anchored(w.coin, 2000);
  t.is((await w.broadcaster.broadcast(rung(parent, child))).kind, 'fee_too_low');
  for (const e of w.explorers.values()) t.false(e.accepted(parent.txid));
});

test('inputs spent: rejected, unless the rung itself or one of the bundle\'s own transactions is known', async (t) => {
  const w = await world(t, ['esplora.test', 'mempool.test']);
  const input = w.coin(100_000);
  const earlier = makeTx({ locktime: 0, inputs: [input], outs: [{ script: p2wpkhScript(), value: 99_000n }] });
  t.is((await w.broadcaster.broadcast(rung(earlier))).kind, 'accepted');
  for (const e of w.explorers.values()) e.mine(1);
  const later = makeTx({ locktime: 0, inputs: [input], outs: [{ script: p2wpkhScript(), value: 98_000n }] });
  t.deepEqual(await w.broadcaster.broadcast(rung(later), [earlier.txid]), { kind: 'superseded', txid: earlier.txid });
  t.like(await w.broadcaster.broadcast(rung(later)), { kind: 'rejected', code: 'inputs_missing_or_spent' });
  t.deepEqual(await w.broadcaster.broadcast(rung(earlier)), { kind: 'accepted', verified: true }, 'already confirmed counts as accepted');
});

test('packages sharing a parent: the next rung, sent after the earlier child was mined, is superseded by that child, not rejected', async (t) => {
  const w = await world(t, ['esplora.test', 'mempool.test']);
  const parent = makeTx({ locktime: 0, version: 3, inputs: [w.coin(100_000)], outs: [{ script: p2wpkhScript(), value: 100_000n }, { script: P2A_SCRIPT, value: 0n }] });
  const funding = w.coin(20_000);
  const child = (fee: number) => makeTx({ locktime: 0, version: 3, inputs: [{ txid: parent.txid, vout: 1 }, funding], outs: [{ script: p2wpkhScript(), value: BigInt(20_000 - fee) }] });
  const ladder: Ladder = { kind: 'bundle', rungs: [rung(parent, child(2000)), rung(parent, child(6000))] };
  t.like(await w.broadcaster.broadcast(ladder.rungs[0]!), { kind: 'accepted' });
  for (const e of w.explorers.values()) e.mine(1);
  const sent = [{ rung: 0, txid: ladder.rungs[0]!.txs[1]!.txid }];
  t.deepEqual(await w.broadcaster.broadcast(ladder.rungs[1]!, ownTxids(ladder, sent, 1)), { kind: 'superseded', txid: sent[0]!.txid });
});

test('non-final wins over everything but acceptance: the next rung would be just as early', async (t) => {
  const w = await world(t, ['esplora.test']);
  const explorer = w.explorers.get('esplora.test')!;
  const tx = makeTx({ locktime: explorer.tip().height + 5, inputs: [w.coin(100_000)], outs: [{ script: p2wpkhScript(), value: 99_000n }] });
  t.like(await w.broadcaster.broadcast(rung(tx)), { kind: 'non_final', reason: 'non-final' });
});
