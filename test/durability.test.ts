// Durability and privacy at rest (SPEC §3, §5): SIGKILL while submissions arrive and while
// broadcasting loses nothing; afterwards no raw transaction or token is anywhere on disk.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestExplorer } from './support/explorer.js';
import { TestSocksServer } from './support/socks5-server.js';
import { makeTx } from './support/txs.js';
import { startService, type Service } from './support/service.js';
import { TestClient, type Submitted } from './support/client.js';
import { serveArgs } from './support/serve-args.js';
import { until } from './support/wait.js';
import { COIN_VALUE, ladderPlaintext } from './support/ladders.js';
import { randomBytes } from 'node:crypto';

async function setup(t: { teardown(fn: () => unknown): void }, extra: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-crash-'));
  const explorer = await TestExplorer.start({ startHeight: 300, unknownTxStatus: 'unconfirmed' });
  const socks = await TestSocksServer.start({
    resolve: (host, port) => (host === 'explorer.test' && port === 80 ? { host: '127.0.0.1', port: explorer.port } : null),
  });
  const args = serveArgs({
    dataDir: join(dir, 'data'),
    explorers: ['http://explorer.test/api'],
    tor: { mode: 'external', socks: socks.url },
    requestTimeoutSeconds: 2,
    extra,
  });
  const w = {
    dir,
    explorer,
    args,
    service: null as unknown as Service,
    client: null as unknown as TestClient,
    async start() {
      w.service = await startService(args);
      w.client = new TestClient(w.service.url);
      // Height locktimes wait for a tip (SPEC §8): a first start has none until its first poll.
      await w.service.judged(explorer.tip().height);
    },
  };
  t.teardown(async () => {
    await w.service?.kill('SIGTERM');
    await socks.close();
    await explorer.close();
    await rm(dir, { recursive: true, force: true });
  });
  await w.start();
  return w;
}

test.serial('SIGKILL while submissions arrive, then while broadcasting: every accepted submission is kept and broadcast', async (t) => {
  const w = await setup(t);
  const height = w.explorer.tip().height;
  const txs = Array.from({ length: 400 }, () => makeTx({ locktime: height + 1 }));
  const accepted: Array<Submitted & { txid: string }> = [];
  let sent = 0;
  // Eight submitters in parallel; the service is killed while they are mid-flight.
  const submitter = async () => {
    while (sent < txs.length) {
      const tx = txs[sent++]!;
      try {
        const sub = await w.client.submit(tx.hex, height + 1);
        accepted.push({ ...sub, txid: tx.txid });
      } catch {
        return; // connection reset by the kill: the client does not know, and keeps its transaction
      }
    }
  };
  const running = Promise.all(Array.from({ length: 8 }, submitter));
  await until(() => accepted.length >= 100, 'a hundred submissions answered', 20_000, 5);
  await w.service.kill('SIGKILL');
  await running;
  t.true(accepted.length >= 100 && accepted.length < txs.length, `killed mid-stream after ${accepted.length} answers`);

  await w.start();
  for (const sub of accepted) t.is((await w.client.status(sub.id)).status, 'pending', `${sub.id} survived`);

  // Now hang every broadcast, mature the lot, and kill while they are being broadcast.
  w.explorer.setMode('slow-broadcasts');
  w.explorer.mine(1);
  await w.client.waitForStatus(accepted[0]!.id, (r) => r.status === 'broadcasting', 20_000);
  await w.service.kill('SIGKILL');
  w.explorer.setMode('ok');
  await w.start();
  for (const sub of accepted) {
    const final = await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcast' || r.status === 'confirmed', 60_000);
    t.is(final.txid, sub.txid);
    t.true(w.explorer.accepted(sub.txid));
  }
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

test.serial('at rest: after broadcast and confirmation, no raw transaction and no token is anywhere in the data directory', async (t) => {
  const w = await setup(t);
  const height = w.explorer.tip().height;
  const txs = Array.from({ length: 5 }, () => makeTx({ locktime: height, segwit: true }));
  const subs = [];
  for (const tx of txs) subs.push(await w.client.submit(tx.hex, height));
  for (const s of subs) await w.client.waitForStatus(s.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
  w.explorer.mine(1);
  for (const s of subs) await w.client.waitForStatus(s.id, (r) => r.status === 'confirmed');
  await w.service.kill('SIGKILL'); // the harshest case: nothing gets a chance to clean up
  const files = await filesUnder(join(w.dir, 'data'));
  t.true(files.some((f) => f.endsWith('relaystore.sqlite')));
  const needles: Array<[string, Buffer]> = [];
  for (const tx of txs) {
    needles.push([`raw tx ${tx.txid}`, tx.bytes], [`raw tx hex ${tx.txid}`, Buffer.from(tx.hex)]);
  }
  for (const s of subs) needles.push([`token ${s.id}`, Buffer.from(s.token, 'hex')], [`token hex ${s.id}`, Buffer.from(s.token)]);
  for (const file of files) {
    const content = await readFile(file);
    for (const [what, needle] of needles) t.is(content.indexOf(needle), -1, `${what} found in ${file}`);
  }
  const mode = (await stat(join(w.dir, 'data'))).mode & 0o777;
  t.is(mode, 0o700);
  t.is((await stat(join(w.dir, 'data', 'keys.json'))).mode & 0o777, 0o600);
});

test.serial('SIGKILL between two rungs of a fee ladder: the restart sends the rung it had climbed to, never the one before', async (t) => {
  const w = await setup(t, ['--fee-bump-blocks', '2']);
  const coin = { txid: randomBytes(32).toString('hex'), vout: 0 };
  w.explorer.fund(coin.txid, coin.vout, COIN_VALUE);
  const locktime = w.explorer.tip().height;
  const { plaintext, ladder } = ladderPlaintext(locktime, [220, 1_100, 5_500], coin);
  const [first, second] = ladder.rungs.map((r) => r.txs[0]!.txid);
  const submitted = await w.client.submitPlaintext(locktime, plaintext);
  t.is(submitted.status, 201);
  const id: string = submitted.json.id;

  // No fee estimate: the first rung goes out. Blocks that take nothing under 100 sat/vB leave it unconfirmed.
  await w.client.waitForStatus(id, (r) => r.status === 'broadcast' && r.rung === 0);
  t.true(w.explorer.inMempool(first!));
  w.explorer.setMode('slow-broadcasts');
  w.explorer.mine(2, { minFeeRate: 100 });
  // The climb is stored (broadcast → broadcasting); the status keeps showing the rung last sent while the next one is out.
  const climbing = await w.client.waitForStatus(id, (r) => r.status === 'broadcasting');
  t.like(climbing, { rungs: 3, rung: 0, txids: [first] });
  await w.service.kill('SIGKILL');
  const firstSends = w.explorer.received.filter((r) => r.txid === first).length;

  w.explorer.setMode('ok');
  await w.start();
  await w.client.waitForStatus(id, (r) => r.status === 'broadcast' && r.rung === 1);
  t.true(w.explorer.inMempool(second!), 'the second rung replaced the first');
  t.false(w.explorer.inMempool(first!));
  w.explorer.mine(1, { minFeeRate: 5 });
  const done = await w.client.waitForStatus(id, (r) => r.status === 'confirmed');
  t.like(done, { txid: second, rung: 1, rungs: 3, txids: [second] });
  t.is(w.explorer.received.filter((r) => r.txid === first).length, firstSends, 'the first rung was never sent again');
});
