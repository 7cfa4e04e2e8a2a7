// Hostile clients against `relaystore serve` as a child process (issue 12, SPEC §8): a flood of
// slow connections, bodies too large, uploads abandoned half-way, an explorer that echoes what it
// is sent. What must hold: chain polling never starves, the service answers again within its
// timeouts, every client can read its 413, and the logs stay quiet and hold no transaction.
import test from 'ava';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { makeTx } from './support/txs.js';
import { until } from './support/wait.js';
import { startService } from './support/service.js';
import { mine, startServiceWorld, type ServiceWorld } from './support/service-world.js';

/** Headers within 10 s, checked every second (src/http/server.ts); the rest is slack for a busy machine. */
const WITHIN_TIMEOUTS_MS = 20_000;
const EIGHT_MIB = 8 * 1024 * 1024;

const portOf = (w: ServiceWorld) => Number(new URL(w.service.url).port);
const logText = (w: ServiceWorld) => [...w.service.lines.map((l) => JSON.stringify(l)), ...w.service.stderr].join('\n');

interface Flood {
  /** Sockets the server has not closed yet. */
  readonly open: Set<net.Socket>;
  settled: number;
}

/** `n` sockets that never finish a request: half send nothing, half trickle a header byte a second. */
function flood(port: number, n: number): Flood {
  const f: Flood = { open: new Set(), settled: 0 };
  for (let i = 0; i < n; i++) {
    const socket = net.connect(port, '127.0.0.1');
    let trickle: NodeJS.Timeout | undefined;
    f.open.add(socket);
    socket.once('connect', () => {
      f.settled++;
      if (i % 2 === 0) return;
      socket.write('POST /v1/transactions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      trickle = setInterval(() => socket.writable && socket.write('a'), 1000);
    });
    socket.on('error', () => {});
    // Reading, so that the server's close is seen even on a socket that never writes.
    socket.resume();
    socket.once('close', () => {
      clearInterval(trickle);
      if (socket.connecting) f.settled++;
      f.open.delete(socket);
    });
  }
  return f;
}

test.serial('a flood of slow connections beyond --max-connections: chain polling goes on, and the service answers again within its timeouts', async (t) => {
  // 500 connections would exhaust this open-files limit without the cap.
  const w = await startServiceWorld(t, { args: ['--max-connections', '64'], openFiles: 512 });
  t.like(await w.service.waitFor((l) => l.event === 'connections'), { maxConnections: 64, openFilesLimit: 512 });
  const f = flood(portOf(w), 500);
  t.teardown(() => f.open.forEach((s) => s.destroy()));
  await until(() => f.settled === 500, 'every flood socket connected', 30_000);
  await until(() => f.open.size <= 64, 'no more than --max-connections kept open', 10_000);

  w.explorer.mine(1);
  await w.service.judged(w.explorer.tip().height, 8_000);
  t.true(f.open.size > 0, 'the tip was judged while the flood held the connections');

  await until(() => f.open.size === 0, 'every slow connection freed by the server', WITHIN_TIMEOUTS_MS);
  t.is((await w.client.json('GET', '/v1/info')).status, 200);
  t.false(logText(w).includes('EMFILE'));
  await w.service.kill('SIGTERM');
  // Every flood connection was either closed at once or held until its headers were late.
  const summary = await w.service.waitFor((l) => l.event === 'summary');
  t.is(Number(summary.connections_refused) + Number(summary.client_timeouts), 500, JSON.stringify(summary));
  t.true(Number(summary.client_timeouts) >= 64, JSON.stringify(summary));
  t.false(w.service.lines.some((l) => l.level === 'error'));
});

test.serial('--max-connections is lowered to what the open-files limit leaves, and the service refuses a limit too low to serve', async (t) => {
  const w = await startServiceWorld(t, { args: ['--max-connections', '512'], openFiles: 512 });
  const line = await w.service.waitFor((l) => l.event === 'connections');
  t.is(line.level, 'warn');
  t.is(line.requested, 512);
  t.is(line.maxConnections, 512 - Number(line.reservedForOutgoing), 'what the limit leaves once outgoing work has its share');
  // Refused before the data directory is touched, so the running service's is fine to name.
  await t.throwsAsync(startService(w.args, {}, 30_000, 200), { message: /open-files limit \(200\)/ });
});

for (const mode of ['echo', 'echo-reject'] as const) {
  test.serial(`an explorer whose error text repeats the transaction (${mode}) leaves no raw transaction in the logs`, async (t) => {
    const w = await startServiceWorld(t);
    w.explorer.setMode(mode);
    const height = w.explorer.tip().height;
    const tx = makeTx({ locktime: height + 1 });
    await w.client.submit(tx.hex, height + 1);
    await mine(w, 1);
    const line = await w.service.waitFor((l) => l.event === 'broadcast' && l.txid === tx.txid);
    t.is(line.outcome, mode === 'echo' ? 'unreachable' : 'rejected');
    t.regex(String(line.reason), /hex chars removed/);
    const logs = logText(w);
    t.false(/[0-9a-fA-F]{65,}/.test(logs), 'no hex run longer than a txid');
    for (let at = 0; at + 32 <= tx.hex.length; at++) if (logs.includes(tx.hex.slice(at, at + 32))) t.fail(`16 bytes of the raw transaction at ${at / 2}`);
  });
}

/** An HTTP exchange on a raw socket: `send` is written whole before anything is read; answers the text received. */
function exchange(port: number, send: (socket: net.Socket, done: () => void) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.pause();
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.once('connect', () => send(socket, () => socket.resume()));
    socket.once('error', (err) => reject(new Error(`${err.message} after ${JSON.stringify(received.slice(0, 200))}`)));
    socket.once('end', () => resolve(received));
  });
}

const statusLines = (text: string) => text.match(/^HTTP\/1\.1 \d{3}[^\r]*/gm) ?? [];

test.serial("an 8 MiB body from Python's urllib, which sends everything before it reads, gets a 413 it can read", async (t) => {
  const w = await startServiceWorld(t);
  const script = [
    'import sys, json, urllib.request, urllib.error',
    "req = urllib.request.Request(sys.argv[1] + '/v1/transactions', data=b'{' + b' ' * (8 << 20) + b'}', headers={'Content-Type': 'application/json'})",
    'try:',
    '    urllib.request.urlopen(req, timeout=60)',
    "    print('accepted')",
    'except urllib.error.HTTPError as e:',
    "    print(e.code, json.load(e)['error']['code'])",
  ].join('\n');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', script, w.service.url], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()))),
  );
  t.is(out, '413 payload_too_large');
});

test.serial('an 8 MiB chunked body sent whole before reading (no length declared) gets a readable 413', async (t) => {
  const w = await startServiceWorld(t);
  const answer = await exchange(portOf(w), (socket, done) => {
    socket.write('POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
    const chunk = `${(1 << 20).toString(16)}\r\n${' '.repeat(1 << 20)}\r\n`;
    for (let i = 0; i < 8; i++) socket.write(chunk);
    socket.write('0\r\n\r\n', done);
  });
  t.deepEqual(statusLines(answer), ['HTTP/1.1 413 Payload Too Large']);
  t.regex(answer, /"code":"payload_too_large"/);
});

test.serial('Expect: 100-continue with a declared length too large gets the 413 at once, without the body being asked for', async (t) => {
  const w = await startServiceWorld(t);
  const head = (length: number) => `POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
  const refused = await exchange(portOf(w), (socket, done) => socket.write(head(EIGHT_MIB), done));
  t.deepEqual(statusLines(refused), ['HTTP/1.1 413 Payload Too Large']);
  // A length within the limit is asked for with 100 Continue, then answered.
  const asked = await exchange(portOf(w), (socket, done) => {
    socket.resume();
    socket.write(head(2).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    socket.once('data', () => socket.write('{]', done));
  });
  t.deepEqual(statusLines(asked), ['HTTP/1.1 100 Continue', 'HTTP/1.1 400 Bad Request']);
});

test.serial('a busy server refusing the form (no stamp without JavaScript) reads and drops its 4 MiB body sent before reading, answers with Connection: close, and closes', async (t) => {
  // Threshold 0 and a blob stored: every submission is asked for work, so the form is refused unread.
  const w = await startServiceWorld(t, { args: ['--max-store-bytes', '100000', '--admission-threshold', '0', '--admission-max-bits', '8'] });
  const fill = await w.client.json('POST', '/v1/transactions', { locktime: w.explorer.tip().height + 10, sealed: 'ab'.repeat(20_000) });
  t.is(fill.status, 201);
  const body = `tx=${'a'.repeat(4 << 20)}`;
  const answer = await exchange(portOf(w), (socket, done) => {
    socket.write(`POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body, done);
  });
  t.deepEqual(statusLines(answer), ['HTTP/1.1 400 Bad Request']);
  t.regex(answer, /\r\nconnection: close\r\n/i);
  t.regex(answer, /stamp_required/);
});

/** An upload abandoned once the server has asked for its body (so the server surely saw it start). */
function abandonedUpload(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n');
    });
    socket.once('data', () => socket.write(`{"locktime":1,"sealed":"${'ab'.repeat(500)}`, () => socket.destroy()));
    socket.on('error', () => {});
    socket.once('close', () => resolve());
  });
}

test.serial('300 uploads abandoned half-way: no error line, no stack trace, one summary that counts them', async (t) => {
  const w = await startServiceWorld(t);
  const port = portOf(w);
  for (let done = 0; done < 300; done += 20) await Promise.all(Array.from({ length: 20 }, () => abandonedUpload(port)));
  await w.service.kill('SIGTERM');
  const summary = await w.service.waitFor((l) => l.event === 'summary');
  t.is(summary.client_aborts, 300);
  t.deepEqual(w.service.stderr, [], 'nothing on stderr');
  t.deepEqual(w.service.lines.filter((l) => l.level === 'error'), []);
});
