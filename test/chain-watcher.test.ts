// The chain watcher keeps the tip the explorers agree on (no one of them moves it alone) and survives
// ones that are down, slow, lagging, lying or answering garbage (size caps and timeouts on every response).
import test from 'ava';
import { TestExplorer, type ExplorerMode, type ExplorerOptions } from './support/explorer.js';
import { TestSocksServer } from './support/socks5-server.js';
import { Esplora } from '../src/chain/esplora.js';
import { ChainWatcher } from '../src/chain/chain-watcher.js';
import { SocksTransport } from '../src/net/transport.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';

// Long enough that a loaded machine never drops an answer (the agreement tests count answers); no
// test waits it out, as none has an explorer that does not answer.
const TIMEOUT_MS = 60_000;
// The one explorer that never answers (held until the test ends) is given this: it only bounds the test.
const GIVE_UP_MS = 2_000;

async function setup(t: { teardown(fn: () => unknown): void }, badTimeoutMs = TIMEOUT_MS) {
  const { servers: [good, bad], socks, explorers } = await startExplorers(t, [{ startHeight: 500 }, { startHeight: 500, slowMs: 10 * 60_000 }], [TIMEOUT_MS, badTimeoutMs]);
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: 60_000, clock: systemClock, log: silentLogger });
  t.teardown(() => watcher.stop());
  return { good: good!, bad: bad!, socks, watcher };
}

/** Explorers e0.test, e1.test, … behind one SOCKS server, and an Esplora client for each. */
async function startExplorers(t: { teardown(fn: () => unknown): void }, options: ExplorerOptions[], timeouts: number[] = []) {
  const servers = await Promise.all(options.map((o, i) => TestExplorer.start({ name: `e${i}`, ...o })));
  const socks = await TestSocksServer.start({ resolve: (host) => {
    const server = servers[Number(/^e(\d+)\.test$/.exec(host)?.[1] ?? NaN)];
    return server ? { host: '127.0.0.1', port: server.port } : null;
  } });
  t.teardown(async () => {
    await socks.close();
    await Promise.all(servers.map((s) => s.close()));
  });
  const transport = new SocksTransport(socks.url);
  const explorers = servers.map((_, i) => new Esplora(`http://e${i}.test/api`, transport, { timeoutMs: timeouts[i] ?? TIMEOUT_MS }));
  return { servers, socks, explorers };
}

for (const mode of ['down', 'error500', 'garbage', 'slow'] as ExplorerMode[]) {
  test(`an explorer that is ${mode} does not stop the tip from following the others`, async (t) => {
    const { good, bad, watcher } = await setup(t, mode === 'slow' ? GIVE_UP_MS : TIMEOUT_MS);
    bad.setMode(mode);
    good.mine(3);
    await watcher.pollNow();
    t.deepEqual(watcher.current(), good.tip());
  });
}

test('two explorers: one ahead on its own does not move the tip; the tip is the highest height both reach', async (t) => {
  const { good, bad, watcher } = await setup(t);
  bad.mine(10);
  await watcher.pollNow();
  t.deepEqual(watcher.current(), good.tip(), 'a lying or buggy explorer alone would make immature transactions look mature');
  good.mine(2);
  await watcher.pollNow();
  t.deepEqual(watcher.current(), good.tip());
});

test('three explorers: one lying ahead and one lagging behind, the tip is the highest height two reach', async (t) => {
  const { servers: [liar, honest, laggard], explorers } = await startExplorers(t, [{ startHeight: 500 }, { startHeight: 500 }, { startHeight: 500 }]);
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: 60_000, clock: systemClock, log: silentLogger });
  t.teardown(() => watcher.stop());
  laggard!.lag(true);
  liar!.mine(20);
  honest!.mine(2);
  laggard!.mine(2);
  await watcher.pollNow();
  t.deepEqual(watcher.current(), honest!.tip());
});

test('explorers at the same height: the block with the earliest median time past, so no time lock looks mature early', async (t) => {
  const { good, bad, watcher } = await setup(t);
  good.mine(6, { timeStep: 100_000 });
  bad.mine(6, { timeStep: 600 });
  await watcher.pollNow();
  t.true(good.tip().medianTime > bad.tip().medianTime);
  t.deepEqual(watcher.current(), bad.tip());
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
  t.is(byHost.get('e0.test')!.size, 1);
  t.is(byHost.get('e1.test')!.size, 1);
  t.not([...byHost.get('e0.test')!][0], [...byHost.get('e1.test')!][0]);
});

test('the median time past comes from the block, as Core computes it', async (t) => {
  const { good, bad, watcher } = await setup(t);
  good.mine(5, { timeStep: 1 });
  bad.mine(5, { timeStep: 1 });
  await watcher.pollNow();
  t.is(watcher.current()!.medianTime, good.tip().medianTime);
});

test('fee estimates: read with the tip, over the polling credential, at the nearest target at or below --fee-target', async (t) => {
  const { good, bad, socks } = await setup(t);
  let now = 1_000_000;
  const transport = new SocksTransport(socks.url);
  const explorers = ['http://e0.test/api', 'http://e1.test/api'].map((u) => new Esplora(u, transport, { timeoutMs: TIMEOUT_MS }));
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: 60_000, feeTargetBlocks: 5, clock: { now: () => now }, log: silentLogger });
  t.teardown(() => watcher.stop());
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), null, 'no explorer lists estimates yet');

  good.setFeeEstimates({ '1': 50, '3': 20, '6': 10, '144': 1 });
  bad.setFeeEstimates({ '2': 25, '4': 12, '25': 3, warning: 'deprecated' } as unknown as Record<string, number>);
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 12, 'good says 20 at target 3, bad 12 at 4: the lower middle of two, so one explorer cannot make the submitter pay more');
  const polls = socks.connections.filter((c) => c.firstLine?.startsWith('GET /api/fee-estimates'));
  const tips = socks.connections.filter((c) => c.firstLine?.startsWith('GET /api/blocks/tip/hash'));
  t.is(polls.length, 4, 'once per explorer per poll, never per transaction');
  for (const host of ['e0.test', 'e1.test']) {
    const users = new Set([...polls, ...tips].filter((c) => c.host === host).map((c) => c.username));
    t.is(users.size, 1, `${host}: the polling credential`);
  }

  good.setMode('garbage');
  now += 60_000;
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 12, 'a garbage answer keeps the last good estimate for a while');
  now += 4 * 60_000;
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 12, 'then it goes stale and only the other explorer counts');
});

test('fee estimates: the median of three, so one explorer cannot move it either way', async (t) => {
  const { servers: [a, b, c], explorers } = await startExplorers(t, [{}, {}, {}]);
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: 60_000, feeTargetBlocks: 6, clock: systemClock, log: silentLogger });
  t.teardown(() => watcher.stop());
  a!.setFeeEstimates({ '6': 900 });
  b!.setFeeEstimates({ '6': 20 });
  c!.setFeeEstimates({ '6': 12 });
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 20);
  a!.setFeeEstimates({ '6': 1 });
  await watcher.pollNow();
  t.is(watcher.feeEstimate(), 12);
});
