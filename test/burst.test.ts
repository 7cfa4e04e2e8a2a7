// Honest limits of a maturity burst (issue 14), not timed: two hundred transactions due at one block
// all reach every explorer through the recording SOCKS5 server, each send on its own credentials
// (200 × explorers of them, none shared), and an explorer that holds every broadcast does not
// hold back the other: it has them all while the slow one has answered none.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestExplorer } from './support/explorer.js';
import { TestSocksServer, type SocksConnection } from './support/socks5-server.js';
import { startService, type Service } from './support/service.js';
import { serveArgs } from './support/serve-args.js';
import { TestClient } from './support/client.js';
import { makeTx } from './support/txs.js';
import { until } from './support/wait.js';

const N = 200;

async function world(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-burst-'));
  // Two explorers, each its own node: one answers at once, the other holds every broadcast.
  const fast = await TestExplorer.start({ name: 'fast', startHeight: 300, unknownTxStatus: 'unconfirmed' });
  const slow = await TestExplorer.start({ name: 'slow', startHeight: 300, unknownTxStatus: 'unconfirmed', slowMs: 600_000 });
  const byName = new Map([['fast.test', fast], ['slow.test', slow]]);
  const socks = await TestSocksServer.start({ resolve: (host, port) => (byName.has(host) && port === 80 ? { host: '127.0.0.1', port: byName.get(host)!.port } : null) });
  let service: Service | null = null;
  t.teardown(async () => {
    await service?.kill('SIGTERM');
    await socks.close();
    await fast.close();
    await slow.close();
    await rm(dir, { recursive: true, force: true });
  });
  // A request timeout beyond the test's length: the slow explorer's answers are late, not lost.
  const args = serveArgs({ dataDir: join(dir, 'data'), explorers: ['http://fast.test/api', 'http://slow.test/api'], tor: { mode: 'external', socks: socks.url }, requestTimeoutSeconds: 600 });
  service = await startService(args);
  return { fast, slow, socks, service, client: new TestClient(service.url) };
}

const isPost = (c: SocksConnection, host: string) => c.host === host && c.firstLine?.startsWith('POST /api/tx ') === true;

test('200 due at one block reach every explorer on 200 × 2 distinct credentials; a slow explorer holds back no other', async (t) => {
  t.timeout(400_000);
  const w = await world(t);
  const tip = w.fast.tip().height;
  await w.service.judged(tip);
  const txs = Array.from({ length: N }, () => makeTx({ locktime: tip + 1 }));
  for (const tx of txs) await w.client.submit(tx.hex, tip + 1);
  await w.service.judged(tip);
  t.is(w.fast.received.length + w.slow.received.length, 0, 'nothing leaves before maturity');

  w.slow.setMode('slow-broadcasts');
  w.fast.mine(1);
  w.slow.mine(1);
  await Promise.all(txs.map((tx) => w.fast.waitForReceived(tx.txid, 120_000)));
  t.is(w.slow.received.length, 0, 'the fast explorer had every transaction while the slow one had answered none');
  t.true(w.slow.heldCount > 0, 'the slow one was holding broadcasts all along');

  w.slow.setMode('ok');
  await until(() => w.slow.answerHeld() === 0 && txs.every((tx) => w.slow.received.some((r) => r.txid === tx.txid)), 'every transaction at the slow explorer', 120_000, 200);

  const posts = (host: string) => w.socks.connections.filter((c) => isPost(c, host));
  for (const host of ['fast.test', 'slow.test']) {
    const users = new Set(posts(host).map((c) => c.username));
    t.is(users.size, posts(host).length, `${host}: every send on credentials of its own`);
    t.true(users.size >= N, `${host}: ${users.size} sends`);
  }
  t.true(new Set([...posts('fast.test'), ...posts('slow.test')].map((c) => c.username)).size >= N * 2, '200 × 2 credentials for the sends');
  // SPEC §5: each is then looked up, through the other explorer, on a circuit of its own; the
  // record's outcome is logged once that check has answered.
  await until(() => w.service.lines.filter((l) => l.event === 'broadcast' && l.outcome === 'accepted').length >= N, 'every broadcast outcome', 120_000);
  const lookedUp = new Set(w.socks.connections.map((c) => /^GET \/api\/tx\/([0-9a-f]{64}) /.exec(c.firstLine ?? '')?.[1]));
  t.true(txs.every((tx) => lookedUp.has(tx.txid)), 'every transaction checked with GET /tx/:txid');
  // Apart from the chain polling (one credential per explorer), no credential serves twice.
  const polling = new Set(w.socks.connections.filter((c) => c.firstLine?.startsWith('GET /api/blocks/tip/hash')).map((c) => c.username));
  const others = w.socks.connections.filter((c) => !polling.has(c.username));
  t.is(new Set(others.map((c) => c.username)).size, others.length);
  t.false(others.some((c) => c.username === null));
});
