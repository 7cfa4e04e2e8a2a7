// End to end over real Tor (a private network on loopback): the test explorer is an onion service,
// `relaystore serve --tor managed` joins the network, and a client reaches RelayStore only through
// its .onion via a separate Tor client (with the client library). Circuits are observed on RelayStore's own tor control port.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorNetwork } from './support/tor-network.js';
import { TestExplorer } from './support/explorer.js';
import { makeTx } from './support/txs.js';
import { isTick, startService, type Service } from './support/service.js';
import { serveArgs } from './support/serve-args.js';
import { until } from './support/wait.js';
import { socksJsonRetry, socksJson } from './support/socks-http.js';
import { TorControl, parseKeywords } from '../src/tor/control.js';
import { CONTROL_PORT_FILE, readControlPortFile } from '../src/tor/managed-tor.js';
import { RelayStoreClient } from '../src/index.js';

test.serial('over Tor: submit via the onion, broadcast at maturity to the explorer onion, one circuit per transaction', async (t) => {
  t.timeout(300_000);
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-e2e-'));
  let net: TorNetwork | null = null;
  let service: Service | null = null;
  let explorer: TestExplorer | null = null;
  let control: TorControl | null = null;
  t.teardown(async () => {
    control?.close();
    await service?.kill('SIGTERM');
    await net?.stop();
    await explorer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  net = await TorNetwork.start({ log: (line) => t.log(line) });
  t.log(`private network ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  explorer = await TestExplorer.start({ startHeight: 1000, unknownTxStatus: 'unconfirmed' });
  const explorerTor = await net.startClient({ name: 'explorer', onions: [{ targetPort: explorer.port }] });
  const explorerOnion = explorerTor.onions[0]!;
  const client = await net.startClient({ name: 'wallet' });

  const torConfig = join(dir, 'join.torrc');
  await writeFile(torConfig, net.torrcForClient());
  const dataDir = join(dir, 'data');
  service = await startService(
    serveArgs({ dataDir, explorers: [`http://${explorerOnion}/api`], tor: { mode: 'managed', config: torConfig }, retryMaxSeconds: 3 }),
    {},
    180_000,
  );
  t.log(`relaystore ready (managed tor bootstrapped, onion published) after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const info = await socksJsonRetry(client.socksUrl, `http://${(await serviceOnion(service))}/v1/info`);
  t.is(info.status, 200);
  t.regex(info.json.onion, /^[a-z2-7]{56}\.onion$/);
  const base = `http://${info.json.onion}`;

  // Watch RelayStore's own tor: which circuit carries each stream to the explorer's onion.
  const controlPort = await readControlPortFile(join(dataDir, CONTROL_PORT_FILE), { deadline: Date.now() + 10_000 });
  control = await TorControl.connect(controlPort, join(dataDir, 'tor', 'data', 'control_auth_cookie'));
  const streams: Array<{ circuit: string; target: string; username: string | null; at: number }> = [];
  control.onEvent((ev) => {
    if (ev.type !== 'STREAM') return;
    const [, status, circuit, target] = ev.body.split(' ');
    if (status !== 'SUCCEEDED' || !target?.startsWith(explorerOnion)) return;
    const fields = parseKeywords(ev.body);
    streams.push({ circuit: circuit!, target, username: fields.SOCKS_USERNAME ?? null, at: Date.now() });
  });
  await control.setEvents(['STREAM']);

  // Wait until RelayStore follows the explorer's chain through Tor.
  await service.judged(explorer.tip().height, 60_000);
  // The wallet uses the client library, through its own Tor, pinned to the key it saw.
  const relay = new RelayStoreClient({ server: base, socks: client.socksUrl, expectKey: info.json.sealing.keyId });
  const height = explorer.tip().height;
  const txs = Array.from({ length: 4 }, () => makeTx({ locktime: height + 1 }));
  const ids: string[] = [];
  for (const tx of txs) {
    const submitted = await relay.submit(tx.hex);
    t.is(submitted.txid, tx.txid);
    t.false(submitted.alreadyKnown);
    ids.push(submitted.id);
  }
  // Ticks run one at a time: the second one that ends from here began after the submissions were
  // stored, and judged them at a tip one block short of maturity.
  await service.waitForNext(isTick, 2);
  t.is(explorer.received.length, 0, 'nothing leaves before maturity');
  for (const id of ids) t.is((await socksJson(client.socksUrl, `${base}/v1/transactions/${id}`)).json.status, 'pending');

  const pollingUsers = new Set(streams.map((s) => s.username));
  const matured = Date.now();
  explorer.mine(1);
  const latencies: number[] = [];
  await Promise.all(
    txs.map(async (tx) => {
      await explorer!.waitForReceived(tx.txid, 120_000);
      latencies.push(Date.now() - matured);
    }),
  );
  latencies.sort((a, b) => a - b);
  t.log(`maturity → explorer received over Tor: median ${latencies[Math.floor(latencies.length / 2)]} ms (${latencies.join(', ')} ms; poll interval 1 s)`);
  for (const id of ids) {
    const sent = async () => ['broadcast', 'confirmed'].includes((await socksJson(client.socksUrl, `${base}/v1/transactions/${id}`)).json.status);
    await until(sent, `${id} broadcast`, 60_000, 500);
  }

  // Every stream with a broadcast credential (not the polling one) rides its own circuit.
  const broadcastStreams = streams.filter((s) => s.at >= matured && !pollingUsers.has(s.username));
  t.true(broadcastStreams.length >= txs.length, `saw ${broadcastStreams.length} broadcast streams`);
  const circuitsByUser = new Map<string | null, Set<string>>();
  for (const s of broadcastStreams) {
    if (!circuitsByUser.has(s.username)) circuitsByUser.set(s.username, new Set());
    circuitsByUser.get(s.username)!.add(s.circuit);
  }
  t.false(circuitsByUser.has(null), 'every stream carries SOCKS credentials');
  const owner = new Map<string, string | null>();
  for (const [user, circuits] of circuitsByUser) {
    for (const c of circuits) {
      t.false(owner.has(c) && owner.get(c) !== user, `circuit ${c} shared by two credentials`);
      owner.set(c, user);
    }
  }
  const circuits = new Set(broadcastStreams.map((s) => s.circuit));
  t.log(`${broadcastStreams.length} streams to the explorer after maturity, ${circuitsByUser.size} credentials, ${circuits.size} circuits`);
  t.true(circuits.size >= txs.length, 'distinct circuits for the transactions');
});

async function serviceOnion(service: Service): Promise<string> {
  const ready = await service.waitFor((l) => l.event === 'ready');
  return String(ready.onion);
}
