// The chain watcher keeps the best tip across explorers and survives ones that are down, slow,
// lagging or answering garbage (size caps and timeouts on every response).
import test from 'ava';
import { TestExplorer, type ExplorerMode } from './support/explorer.js';
import { TestSocksServer } from './support/socks5-server.js';
import { Esplora } from '../src/chain/esplora.js';
import { ChainWatcher } from '../src/chain/chain-watcher.js';
import { SocksTransport } from '../src/net/transport.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const good = await TestExplorer.start({ startHeight: 500 });
  const bad = await TestExplorer.start({ startHeight: 500, slowMs: 30_000 });
  const socks = await TestSocksServer.start({
    resolve: (host) => (host === 'good.test' ? { host: '127.0.0.1', port: good.port } : host === 'bad.test' ? { host: '127.0.0.1', port: bad.port } : null),
  });
  t.teardown(async () => {
    await socks.close();
    await good.close();
    await bad.close();
  });
  const transport = new SocksTransport(socks.url);
  const explorers = ['http://good.test/api', 'http://bad.test/api'].map((u) => new Esplora(u, transport, { timeoutMs: 1500 }));
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: 60_000, clock: systemClock, log: silentLogger });
  t.teardown(() => watcher.stop());
  return { good, bad, socks, watcher };
}

for (const mode of ['down', 'error500', 'garbage', 'slow'] as ExplorerMode[]) {
  test(`an explorer that is ${mode} does not stop the tip from following the others`, async (t) => {
    const { good, bad, watcher } = await setup(t);
    bad.setMode(mode);
    good.mine(3);
    await watcher.pollNow();
    t.deepEqual(watcher.current(), good.tip());
  });
}

test('a lagging explorer does not pull the tip back; the highest tip wins', async (t) => {
  const { good, bad, watcher } = await setup(t);
  await watcher.pollNow();
  bad.lag(true);
  good.mine(2);
  bad.mine(2);
  await watcher.pollNow();
  t.is(watcher.current()!.height, 502);
  t.deepEqual(watcher.current(), good.tip());
});

test('every explorer down: no tip yet, and the watcher keeps trying', async (t) => {
  const { good, bad, watcher } = await setup(t);
  good.setMode('down');
  bad.setMode('down');
  await watcher.pollNow();
  t.is(watcher.current(), null);
  good.setMode('ok');
  await watcher.pollNow();
  t.deepEqual(watcher.current(), good.tip());
});

test('polling uses one credential per explorer, different between explorers', async (t) => {
  const { socks, watcher } = await setup(t);
  await watcher.pollNow();
  await watcher.pollNow();
  const byHost = new Map<string, Set<string | null>>();
  for (const c of socks.connections) {
    if (!byHost.has(c.host)) byHost.set(c.host, new Set());
    byHost.get(c.host)!.add(c.username);
  }
  t.is(byHost.get('good.test')!.size, 1);
  t.is(byHost.get('bad.test')!.size, 1);
  t.not([...byHost.get('good.test')!][0], [...byHost.get('bad.test')!][0]);
});

test('the median time past comes from the block, as Core computes it', async (t) => {
  const { good, watcher } = await setup(t);
  good.mine(5, { timeStep: 1 });
  await watcher.pollNow();
  t.is(watcher.current()!.medianTime, good.tip().medianTime);
});

test('fee estimates: read with the tip, over the polling credential, at the nearest target at or below --fee-target', async (t) => {
  const { good, bad, socks } = await setup(t);
  let now = 1_000_000;
  const transport = new SocksTransport(socks.url);
  const explorers = ['http://good.test/api', 'http://bad.test/api'].map((u) => new Esplora(u, transport, { timeoutMs: 1500 }));
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: 60_000, feeTargetBlocks: 5, clock: { now: () => now }, log: silentLogger });
  t.teardown(() => watcher.stop());
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), null, 'no explorer lists estimates yet');

  good.setFeeEstimates({ '1': 50, '3': 20, '6': 10, '144': 1 });
  bad.setFeeEstimates({ '2': 25, '4': 12, '25': 3, warning: 'deprecated' } as unknown as Record<string, number>);
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 20, 'good says 20 at target 3, bad 12 at 4: the higher one');
  const polls = socks.connections.filter((c) => c.firstLine?.startsWith('GET /api/fee-estimates'));
  const tips = socks.connections.filter((c) => c.firstLine?.startsWith('GET /api/blocks/tip/hash'));
  t.is(polls.length, 4, 'once per explorer per poll, never per transaction');
  for (const host of ['good.test', 'bad.test']) {
    const users = new Set([...polls, ...tips].filter((c) => c.host === host).map((c) => c.username));
    t.is(users.size, 1, `${host}: the polling credential`);
  }

  good.setMode('garbage');
  now += 60_000;
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 20, 'a garbage answer keeps the last good estimate for a while');
  now += 4 * 60_000;
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 12, 'then it goes stale and only the other explorer counts');
});
