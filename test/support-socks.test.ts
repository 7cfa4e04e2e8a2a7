// Proves the test SOCKS5 server speaks RFC 1928/1929 like Tor's SOCKS port and records what clients
// ask for, since integration tests use its records to check that everything went out by name.
import test from 'ava';
import { get, request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { TestExplorer } from './support/explorer.js';
import { TestSocksServer, SOCKS_REPLY } from './support/socks5-server.js';
import { makeTx } from './support/txs.js';

type Teardown = { teardown(fn: () => unknown): void };

async function world(t: Teardown, opts: { requireAuth?: boolean } = {}) {
  const explorer = await TestExplorer.start({ startHeight: 123 });
  const socks = await TestSocksServer.start({
    resolve: (host, port) => (host === 'explorer-a.test' && port === 80 ? { host: '127.0.0.1', port: explorer.port } : null),
    ...opts,
  });
  t.teardown(async () => {
    await socks.close();
    await explorer.close();
  });
  return { explorer, socks };
}

function viaAgent(agent: SocksProxyAgent, url: string, opts: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, method: opts.method ?? 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A byte-level SOCKS client, to send exactly what RFC 1928 allows (and what it does not). */
class Wire {
  private buf = Buffer.alloc(0);
  private wake: Array<() => void> = [];
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }
  static open(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Wire(s)));
      s.once('error', reject);
    });
  }
  private notify() {
    for (const w of this.wake.splice(0)) w();
  }
  write(bytes: number[] | Buffer): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.closed) throw new Error(`closed after ${this.buf.length} of ${n} bytes`);
      await new Promise<void>((r) => this.wake.push(r));
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async untilClosed(): Promise<Buffer> {
    while (!this.closed) await new Promise<void>((r) => this.wake.push(r));
    return this.buf;
  }
}

const greeting = (...methods: number[]) => [0x05, methods.length, ...methods];
const auth = (user: string, pass: string) => Buffer.concat([Buffer.from([0x01, user.length]), Buffer.from(user), Buffer.from([pass.length]), Buffer.from(pass)]);
const portBytes = (port: number) => [port >> 8, port & 0xff];
const connectDomain = (host: string, port: number, cmd = 0x01) => Buffer.from([0x05, cmd, 0x00, 0x03, host.length, ...Buffer.from(host), ...portBytes(port)]);

/** Greets with user/pass, authenticates, sends `request`; returns the reply code. */
async function handshake(w: Wire, request: Buffer): Promise<number> {
  w.write(greeting(0x02));
  t_is(await w.read(2), [0x05, 0x02]);
  w.write(auth('u', 'p'));
  t_is(await w.read(2), [0x01, 0x00]);
  w.write(request);
  const reply = await w.read(10);
  return reply[1]!;
}

function t_is(got: Buffer, want: number[]): void {
  if (!got.equals(Buffer.from(want))) throw new Error(`expected ${Buffer.from(want).toString('hex')}, got ${got.toString('hex')}`);
}

test('tunnels HTTP to the explorer by name through SocksProxyAgent, recording credentials and the first line', async (t) => {
  const { explorer, socks } = await world(t);
  t.regex(socks.url, /^socks5h:\/\/127\.0\.0\.1:\d+$/);
  const agent = new SocksProxyAgent(`socks5h://alice:s3cret@127.0.0.1:${socks.port}`);
  const res = await viaAgent(agent, 'http://explorer-a.test/api/blocks/tip/height');
  t.is(res.status, 200);
  t.is(res.body, '123');
  t.deepEqual(socks.connections, [
    { username: 'alice', password: 's3cret', atyp: 'domain', host: 'explorer-a.test', port: 80, ok: true, reply: 0, firstLine: 'GET /api/blocks/tip/height HTTP/1.1' },
  ]);
  t.deepEqual(explorer.requests, [{ method: 'GET', path: '/api/blocks/tip/height' }]);
});

test('node:http get through the agent works too, and a POST /api/tx arrives intact', async (t) => {
  const { explorer, socks } = await world(t);
  const agent = new SocksProxyAgent(`socks5h://bob:pw@127.0.0.1:${socks.port}`);
  const body = await new Promise<string>((resolve, reject) => {
    get('http://explorer-a.test/api/blocks/tip/hash', { agent }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (s += c));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  t.is(body, explorer.tip().hash);

  const tx = makeTx({ locktime: 123, segwit: true });
  const res = await viaAgent(agent, 'http://explorer-a.test/api/tx', { method: 'POST', body: tx.hex });
  t.is(res.body, tx.txid);
  t.true(explorer.accepted(tx.txid));
  t.deepEqual(explorer.received, [{ txid: tx.txid, hex: tx.hex }]);
  t.is(socks.connections.at(-1)?.firstLine, 'POST /api/tx HTTP/1.1');
  t.is(socks.connections.at(-1)?.username, 'bob');
});

test('unknown hosts get 0x04 and nothing is connected', async (t) => {
  const { explorer, socks } = await world(t);
  const agent = new SocksProxyAgent(`socks5h://u:p@127.0.0.1:${socks.port}`);
  await t.throwsAsync(viaAgent(agent, 'http://blockstream.info/api/blocks/tip/height'), { message: /HostUnreachable|0x04|unreachable/i });
  await t.throwsAsync(viaAgent(agent, 'http://explorer-a.test:8080/api/blocks/tip/height'));
  t.like(socks.connections[0], { host: 'blockstream.info', port: 80, ok: false, reply: SOCKS_REPLY.hostUnreachable, firstLine: null });
  t.like(socks.connections[1], { host: 'explorer-a.test', port: 8080, ok: false, reply: SOCKS_REPLY.hostUnreachable });
  t.is(explorer.requests.length, 0);
});

test('requireAuth (default) offers only username/password', async (t) => {
  const { socks } = await world(t);
  const w = await Wire.open(socks.port);
  w.write(greeting(0x00));
  t.deepEqual([...(await w.read(2))], [0x05, 0xff]);
  await w.untilClosed();
  t.is(socks.handshakeFailures, 1);
  t.deepEqual(socks.connections, []);

  const w2 = await Wire.open(socks.port);
  w2.write(greeting(0x00, 0x02));
  t.deepEqual([...(await w2.read(2))], [0x05, 0x02]);
  w2.socket.destroy();
});

test('requireAuth false accepts no-auth (recorded as null credentials) and still prefers user/pass', async (t) => {
  const { socks } = await world(t, { requireAuth: false });
  const w = await Wire.open(socks.port);
  w.write(greeting(0x00));
  t.deepEqual([...(await w.read(2))], [0x05, 0x00]);
  w.write(connectDomain('explorer-a.test', 80));
  t.is((await w.read(10))[1], 0x00);
  w.write(Buffer.from('GET /api/blocks/tip/height HTTP/1.1\r\nHost: explorer-a.test\r\nConnection: close\r\n\r\n'));
  const http = (await w.untilClosed()).toString('utf8');
  t.regex(http, /^HTTP\/1\.1 200 OK/);
  t.true(http.endsWith('\r\n\r\n123'));
  t.like(socks.connections[0], { username: null, password: null, atyp: 'domain', ok: true });

  const w2 = await Wire.open(socks.port);
  w2.write(greeting(0x00, 0x02));
  t.deepEqual([...(await w2.read(2))], [0x05, 0x02]);
  w2.socket.destroy();
});

test('IPv4 and IPv6 targets are recorded as such and never connected unless resolve says so', async (t) => {
  const { socks } = await world(t);
  const ipv4 = await Wire.open(socks.port);
  t.is(await handshake(ipv4, Buffer.from([0x05, 0x01, 0x00, 0x01, 10, 1, 2, 3, ...portBytes(443)])), SOCKS_REPLY.hostUnreachable);
  const ipv6 = await Wire.open(socks.port);
  const loop6 = Buffer.alloc(16);
  loop6[15] = 1;
  t.is(await handshake(ipv6, Buffer.from([0x05, 0x01, 0x00, 0x04, ...loop6, ...portBytes(80)])), SOCKS_REPLY.hostUnreachable);
  t.like(socks.connections[0], { atyp: 'ipv4', host: '10.1.2.3', port: 443, username: 'u', password: 'p', ok: false });
  t.like(socks.connections[1], { atyp: 'ipv6', host: '::1', port: 80, ok: false });
});

test('setRefuse simulates Tor without circuits (0x01); onConnect can answer any code', async (t) => {
  const { explorer, socks } = await world(t);
  socks.setRefuse(true);
  const agent = new SocksProxyAgent(`socks5h://u:p@127.0.0.1:${socks.port}`);
  await t.throwsAsync(viaAgent(agent, 'http://explorer-a.test/api/blocks/tip/height'));
  t.like(socks.connections[0], { host: 'explorer-a.test', ok: false, reply: SOCKS_REPLY.generalFailure });
  socks.setRefuse(false);
  t.is((await viaAgent(agent, 'http://explorer-a.test/api/blocks/tip/height')).body, '123');
  t.is(explorer.requests.length, 1);

  const hooked = await TestSocksServer.start({
    resolve: () => ({ host: '127.0.0.1', port: explorer.port }),
    onConnect: (c) => (c.username === 'blocked' ? SOCKS_REPLY.ttlExpired : undefined),
  });
  t.teardown(() => hooked.close());
  const w = await Wire.open(hooked.port);
  w.write(greeting(0x02));
  await w.read(2);
  w.write(auth('blocked', 'x'));
  await w.read(2);
  w.write(connectDomain('explorer-a.test', 80));
  t.is((await w.read(10))[1], SOCKS_REPLY.ttlExpired);
});

test('a resolve pointing off loopback is refused with 0x02, never dialled', async (t) => {
  const socks = await TestSocksServer.start({ resolve: () => ({ host: '192.0.2.1', port: 80 }) });
  t.teardown(() => socks.close());
  const w = await Wire.open(socks.port);
  t.is(await handshake(w, connectDomain('explorer-a.test', 80)), SOCKS_REPLY.notAllowed);
  t.false(socks.connections[0]?.ok);
});

test('a closed target port gets 0x05; BIND gets 0x07', async (t) => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const socks = await TestSocksServer.start({ resolve: () => ({ host: '127.0.0.1', port: deadPort }) });
  t.teardown(() => socks.close());
  t.is(await handshake(await Wire.open(socks.port), connectDomain('explorer-a.test', 80)), SOCKS_REPLY.connectionRefused);
  t.is(await handshake(await Wire.open(socks.port), connectDomain('explorer-a.test', 80, 0x02)), SOCKS_REPLY.commandNotSupported);
  t.deepEqual(socks.connections.map((c) => c.reply), [SOCKS_REPLY.connectionRefused, SOCKS_REPLY.commandNotSupported]);
});

test('everything in one write (optimistic data) still tunnels', async (t) => {
  const { socks } = await world(t);
  const w = await Wire.open(socks.port);
  w.write(Buffer.concat([
    Buffer.from(greeting(0x02)),
    auth('eager', 'pw'),
    connectDomain('explorer-a.test', 80),
    Buffer.from('GET /api/blocks/tip/height HTTP/1.1\r\nHost: explorer-a.test\r\nConnection: close\r\n\r\n'),
  ]));
  const all = await w.untilClosed();
  t.deepEqual([...all.subarray(0, 14)], [0x05, 0x02, 0x01, 0x00, 0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
  t.true(all.subarray(14).toString('utf8').endsWith('\r\n\r\n123'));
  t.like(socks.connections[0], { username: 'eager', ok: true, firstLine: 'GET /api/blocks/tip/height HTTP/1.1' });
});

test('close() destroys open tunnels', async (t) => {
  const explorer = await TestExplorer.start();
  t.teardown(() => explorer.close());
  const socks = await TestSocksServer.start({ resolve: () => ({ host: '127.0.0.1', port: explorer.port }) });
  const w = await Wire.open(socks.port);
  t.is(await handshake(w, connectDomain('explorer-a.test', 80)), 0);
  await socks.close();
  await w.untilClosed();
  t.true(w.closed);
});
