// Runs a private Tor network on loopback and checks what RelayStore relies on: an onion service
// reachable through another tor's SOCKS port, and IsolateSOCKSAuth giving each username its own circuit.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TorNetwork, type TorClient } from './support/tor-network.js';
import { ManagedTor } from '../src/tor/managed-tor.js';
import { isAlive } from '../src/tor/processes.js';

function get(url: string, socks: string, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const agent = new SocksProxyAgent(socks, { timeout: timeoutMs });
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The first fetch can fail (SOCKS error 4) until the descriptor has reached the HSDirs. */
async function getWithRetry(url: string, socks: string, timeoutMs: number): Promise<{ status: number; body: string; attempts: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    try {
      return { ...(await get(url, socks)), attempts };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

let network: TorNetwork;
let client: TorClient;
const t0 = Date.now();
const logLines: string[] = [];

test.before(async () => {
  network = await TorNetwork.start({ log: (line) => logLines.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`) });
});

test.after.always(async () => {
  await network?.stop();
});

test.serial('private tor network: onion reachable, SOCKS usernames isolated', async (t) => {
  t.timeout(180_000);
  t.log(`network ready in ${network.keysMs + network.consensusMs} ms (keys ${network.keysMs} ms, first tor start → consensus ${network.consensusMs} ms)`);

  // The service holds /hold requests until two have arrived, so both streams are open at once.
  const held: http.ServerResponse[] = [];
  let bothHeld: () => void = () => {};
  const bothArrived = new Promise<void>((r) => (bothHeld = r));
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') {
      held.push(res);
      if (held.length === 2) bothHeld();
      return;
    }
    res.end('hello over tor');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const targetPort = (server.address() as AddressInfo).port;

  let service: TorClient;
  [service, client] = await Promise.all([
    network.startClient({ name: 'service', onions: [{ targetPort }] }),
    network.startClient({ name: 'client' }),
  ]);
  t.log(`service tor: bootstrap + descriptor uploaded in ${service.readyMs} ms; client tor ready in ${client.readyMs} ms`);
  const onion = service.onions[0]!;
  t.regex(onion, /^[a-z2-7]{56}\.onion$/);

  const socks = (user: string) => `socks5h://${user}:p@127.0.0.1:${client.socksPort}`;
  const first = await getWithRetry(`http://${onion}/`, socks('warmup'), 30_000);
  t.is(first.status, 200);
  t.is(first.body, 'hello over tor');
  t.log(`first onion fetch OK after ${first.attempts} attempt(s), ${Date.now() - t0} ms after start`);

  // Latency: a fresh username per request (a new rendezvous circuit each time, as the broadcaster
  // does), then one username reused (an existing circuit).
  const fresh: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = Date.now();
    t.is((await get(`http://${onion}/`, socks(`fresh${i}`))).status, 200);
    fresh.push(Date.now() - s);
  }
  const reused: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = Date.now();
    t.is((await get(`http://${onion}/`, socks('same'))).status, 200);
    reused.push(Date.now() - s);
  }
  t.log(`latency over the onion, fresh credentials: ${fresh.join(', ')} ms; reused credentials: ${reused.join(', ')} ms`);

  // Isolation: two simultaneous streams with different usernames must ride different circuits.
  const a = get(`http://${onion}/hold`, 'socks5h://u1:p1@127.0.0.1:' + client.socksPort, 60_000);
  const b = get(`http://${onion}/hold`, 'socks5h://u2:p2@127.0.0.1:' + client.socksPort, 60_000);
  await bothArrived;
  const circuits = (await client.control.getInfo('circuit-status')).split('\n').filter(Boolean);
  const streams = (await client.control.getInfo('stream-status')).split('\n').filter(Boolean);
  for (const r of held) r.end('released');
  t.deepEqual((await Promise.all([a, b])).map((r) => r.body), ['released', 'released']);

  const circuitOf = (user: string) => circuits.filter((l) => l.includes(`SOCKS_USERNAME="${user}"`)).map((l) => l.split(' ')[0]!);
  const c1 = circuitOf('u1');
  const c2 = circuitOf('u2');
  t.log(`u1 circuits ${c1.join(',')}; u2 circuits ${c2.join(',')}; streams: ${streams.join(' | ')}`);
  t.true(c1.length >= 1 && c2.length >= 1, 'each username has its own circuit');
  t.false(c1.some((id) => c2.includes(id)), 'no circuit is shared between the two usernames');
  const onionStreams = streams.map((l) => l.split(' ')).filter((f) => f[3]?.startsWith(onion));
  const streamCircuits = new Set(onionStreams.map((f) => f[2]));
  t.is(onionStreams.length, 2, 'both streams were open at once');
  t.is(streamCircuits.size, 2, 'the two streams ride two circuits');
  for (const id of streamCircuits) t.true(c1.includes(id!) || c2.includes(id!));
  for (const line of logLines.splice(0)) t.log(line);
});

test.serial('managed tor joins the network, publishes a stable onion and comes back after a crash', async (t) => {
  t.timeout(180_000);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'relaystore-managed-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const api = http.createServer((_req, res) => res.end('relaystore api'));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => api.close(() => r())));
  const apiPort = (api.address() as AddressInfo).port;

  const events: Array<{ event: string; fields?: Record<string, unknown> }> = [];
  const waiters: Array<() => void> = [];
  const log = (event: string, fields?: Record<string, unknown>) => {
    events.push(fields ? { event, fields } : { event });
    for (const w of waiters.splice(0)) w();
  };
  const nextEvent = async (name: string, after: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.slice(after).find((e) => e.event === name);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${name} event within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };

  const started = Date.now();
  let managed = await ManagedTor.start({ dataDir, apiHost: '127.0.0.1', apiPort, extraTorrc: network.torrcForClient(), log, readyTimeoutMs: 60_000 });
  t.teardown(() => managed.stop());
  t.log(`managed tor: bootstrap + onion published in ${Date.now() - started} ms`);
  t.log(`managed tor log: ${events.map((e) => e.event + (e.fields && 'progress' in e.fields ? `(${e.fields.progress})` : '')).join(' ')}`);
  t.regex(managed.onion, /^[a-z2-7]{56}\.onion$/);
  t.regex(managed.socksUrl, /^socks5h:\/\/127\.0\.0\.1:\d+$/);
  t.true(events.some((e) => e.event === 'tor_bootstrap' && e.fields?.progress === 100));
  t.true(events.some((e) => e.event === 'tor_onion_published'));
  // tor chose its ports as it bound them; the ones read back are the ones it serves on.
  t.regex(await readFile(path.join(dataDir, 'tor', 'torrc'), 'utf8'), /^SocksPort 127\.0\.0\.1:auto IsolateSOCKSAuth$/m);
  t.deepEqual(events.find((e) => e.event === 'tor_ports')?.fields, { socksPort: managed.socksPort, controlPort: managed.controlPort });
  const viaOwn = (user: string) => `socks5h://${user}:p@127.0.0.1:${managed.socksPort}`;

  const fetched = await getWithRetry(`http://${managed.onion}/`, `socks5h://m1:p@127.0.0.1:${client.socksPort}`, 30_000);
  t.is(fetched.body, 'relaystore api');
  t.is((await getWithRetry(`http://${managed.onion}/`, viaOwn('o1'), 30_000)).body, 'relaystore api', 'its own SOCKS port works');

  // A tor that dies on its own is restarted with the same keys, on ports it chooses again, read back.
  const onion = managed.onion;
  const firstPid = managed.pid!;
  const mark = events.length;
  const killedAt = Date.now();
  process.kill(firstPid, 'SIGKILL');
  await nextEvent('tor_died', mark, 10_000);
  await nextEvent('tor_onion_published', mark, 60_000);
  t.log(`managed tor restarted and re-published ${Date.now() - killedAt} ms after SIGKILL`);
  t.not(managed.pid, firstPid);
  t.is(managed.onion, onion);
  t.is((await getWithRetry(`http://${onion}/`, `socks5h://m2:p@127.0.0.1:${client.socksPort}`, 30_000)).body, 'relaystore api');
  t.is((await getWithRetry(`http://${onion}/`, viaOwn('o2'), 30_000)).body, 'relaystore api', 'socksUrl names the restarted tor');
  t.deepEqual(events.slice(mark).find((e) => e.event === 'tor_ports')?.fields, { socksPort: managed.socksPort, controlPort: managed.controlPort });

  const secondPid = managed.pid!;
  const diedBefore = events.filter((e) => e.event === 'tor_died').length;
  // stop() resolves on tor's 'exit' event, after ManagedTor's own exit handler ran: a crash would be logged by now.
  await managed.stop();
  t.throws(() => process.kill(secondPid, 0));
  t.is(events.filter((e) => e.event === 'tor_died').length, diedBefore, 'stop() is not taken for a crash');

  // A new start with the same data directory keeps the onion address.
  managed = await ManagedTor.start({ dataDir, apiHost: '127.0.0.1', apiPort, extraTorrc: network.torrcForClient(), log, readyTimeoutMs: 60_000 });
  t.is(managed.onion, onion);
  await managed.stop();
  const secret = JSON.stringify(events);
  t.false(/control_auth_cookie|PrivateKey|ED25519-V3:/.test(secret), 'logs hold no key material');
});

test.serial('stop() ends every tor the network started', async (t) => {
  const pids = network.pids;
  t.is(pids.length, 6);
  t.true(pids.every(isAlive));
  const s = Date.now();
  await network.stop();
  t.log(`stopped ${pids.length} tors in ${Date.now() - s} ms`);
  for (const pid of pids) t.throws(() => process.kill(pid, 0), undefined, `tor ${pid} is gone`);
});
