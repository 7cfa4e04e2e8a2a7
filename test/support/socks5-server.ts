// A real SOCKS5 server (RFC 1928 CONNECT + RFC 1929 username/password) on 127.0.0.1 standing in for
// Tor's SOCKS port: it records what each client asked for and only ever connects where `resolve` says.
import { createServer, connect, isIP, type AddressInfo, type Server, type Socket } from 'node:net';

export interface SocksConnection {
  username: string | null;
  password: string | null;
  atyp: 'domain' | 'ipv4' | 'ipv6';
  /** Exactly as the client sent it: a name for ATYP 0x03, an address for 0x01/0x04. */
  host: string;
  port: number;
  /** True once the tunnel to the target is open (reply 0x00). */
  ok: boolean;
  /** The SOCKS reply code sent, null while still connecting. */
  reply: number | null;
  /** The first line the client sent through the tunnel (e.g. `POST /api/tx HTTP/1.1`), once seen. */
  firstLine: string | null;
}

export interface SocksServerOptions {
  /** Maps a requested target to a loopback address, or null for "host unreachable". Never DNS. */
  resolve: (host: string, port: number) => { host: string; port: number } | null;
  /** Default true: offer only username/password (0x02), as the service must always send credentials. */
  requireAuth?: boolean;
  /** Return a SOCKS reply code to refuse this CONNECT (e.g. 0x01, 0x04, 0x06), or nothing to go on. */
  onConnect?: (request: Readonly<SocksConnection>) => number | void;
}

export const SOCKS_REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

const FIRST_LINE_MAX = 8192;

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** RFC 5952 text form, so tests can compare with `::1` and the like. */
function formatIpv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export class TestSocksServer {
  readonly port: number;
  readonly url: string;
  /** One entry per CONNECT request, in arrival order. */
  readonly connections: SocksConnection[] = [];
  /** The local port of every tunnel's connection to its target: the client port the target sees. */
  readonly tunnelPorts = new Set<number>();
  /** Greetings refused (wrong version, or no acceptable auth method offered). */
  handshakeFailures = 0;

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly opts: SocksServerOptions;
  private refuse = false;

  private constructor(server: Server, port: number, opts: SocksServerOptions) {
    this.server = server;
    this.port = port;
    this.url = `socks5h://127.0.0.1:${port}`;
    this.opts = opts;
  }

  static async start(opts: SocksServerOptions): Promise<TestSocksServer> {
    // Half-open so a client that shuts down its sending side still gets the whole answer.
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const socks = new TestSocksServer(server, (server.address() as AddressInfo).port, opts);
    server.on('connection', (socket) => socks.serve(socket));
    return socks;
  }

  /** While true, every CONNECT is answered 0x01 (general failure), as a Tor without circuits would. */
  setRefuse(refuse: boolean): void {
    this.refuse = refuse;
  }

  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await done;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private serve(client: Socket): void {
    this.track(client);
    client.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'connecting' | 'done' = 'greeting';
    let username: string | null = null;
    let password: string | null = null;
    // Bytes that arrive after the CONNECT request but before the tunnel is up (optimistic data).
    const early: Buffer[] = [];

    const fail = () => {
      stage = 'done';
      client.destroy();
    };
    client.on('error', () => client.destroy());
    client.on('end', () => {
      if (stage !== 'done') client.destroy();
    });

    const onData = (chunk: Buffer) => {
      if (stage === 'connecting') {
        early.push(chunk);
        return;
      }
      if (stage === 'done') return;
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (stage === 'greeting') {
          if (buf.length < 2) return;
          if (buf[0] !== 0x05) {
            this.handshakeFailures++;
            return fail();
          }
          const n = buf[1]!;
          if (buf.length < 2 + n) return;
          const methods = [...buf.subarray(2, 2 + n)];
          buf = buf.subarray(2 + n);
          const requireAuth = this.opts.requireAuth ?? true;
          // Like Tor, prefer username/password when offered: it is what selects the circuit.
          const method = methods.includes(0x02) ? 0x02 : !requireAuth && methods.includes(0x00) ? 0x00 : 0xff;
          if (method === 0xff) {
            this.handshakeFailures++;
            client.end(Buffer.from([0x05, 0xff]));
            stage = 'done';
            return;
          }
          client.write(Buffer.from([0x05, method]));
          stage = method === 0x02 ? 'auth' : 'request';
        } else if (stage === 'auth') {
          if (buf.length < 2) return;
          if (buf[0] !== 0x01) {
            this.handshakeFailures++;
            return fail();
          }
          const ulen = buf[1]!;
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen]!;
          if (buf.length < 3 + ulen + plen) return;
          username = buf.subarray(2, 2 + ulen).toString('utf8');
          password = buf.subarray(3 + ulen, 3 + ulen + plen).toString('utf8');
          buf = buf.subarray(3 + ulen + plen);
          // Tor accepts any credentials: they only choose the circuit.
          client.write(Buffer.from([0x01, 0x00]));
          stage = 'request';
        } else if (stage === 'request') {
          if (buf.length < 5) return;
          if (buf[0] !== 0x05) return fail();
          const cmd = buf[1]!;
          const atypByte = buf[3]!;
          let atyp: SocksConnection['atyp'];
          let host: string;
          let end: number;
          if (atypByte === 0x01) {
            end = 4 + 4;
            if (buf.length < end + 2) return;
            host = [...buf.subarray(4, end)].join('.');
            atyp = 'ipv4';
          } else if (atypByte === 0x03) {
            end = 5 + buf[4]!;
            if (buf.length < end + 2) return;
            host = buf.subarray(5, end).toString('utf8');
            atyp = 'domain';
          } else if (atypByte === 0x04) {
            end = 4 + 16;
            if (buf.length < end + 2) return;
            host = formatIpv6(buf.subarray(4, end));
            atyp = 'ipv6';
          } else {
            stage = 'done';
            client.end(reply(SOCKS_REPLY.addressTypeNotSupported));
            return;
          }
          const port = buf.readUInt16BE(end);
          const rest = buf.subarray(end + 2);
          buf = Buffer.alloc(0);
          if (rest.length > 0) early.push(rest);
          const record: SocksConnection = { username, password, atyp, host, port, ok: false, reply: null, firstLine: null };
          this.connections.push(record);
          if (cmd !== 0x01) {
            stage = 'done';
            record.reply = SOCKS_REPLY.commandNotSupported;
            client.end(reply(SOCKS_REPLY.commandNotSupported));
            return;
          }
          stage = 'connecting';
          this.open(client, record, early, onData, () => (stage = 'done'));
          return;
        } else {
          return;
        }
      }
    };
    client.on('data', onData);
  }


  private open(client: Socket, record: SocksConnection, early: Buffer[], onData: (chunk: Buffer) => void, done: () => void): void {
    const refuseWith = (code: number) => {
      done();
      record.reply = code;
      client.end(reply(code));
    };
    if (this.refuse) return refuseWith(SOCKS_REPLY.generalFailure);
    const hooked = this.opts.onConnect?.(record);
    if (typeof hooked === 'number') return refuseWith(hooked);
    const target = this.opts.resolve(record.host, record.port);
    if (!target) return refuseWith(SOCKS_REPLY.hostUnreachable);
    // The guard that keeps tests off the network: an IP literal on loopback, so no DNS either.
    if (!isLoopback(target.host)) return refuseWith(SOCKS_REPLY.notAllowed);

    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.track(upstream);
    upstream.setNoDelay(true);
    let connected = false;
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        const code = err.code === 'ECONNREFUSED' ? SOCKS_REPLY.connectionRefused : SOCKS_REPLY.hostUnreachable;
        if (!client.destroyed) refuseWith(code);
      } else {
        client.destroy();
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (connected) client.destroy();
    });
    upstream.on('connect', () => {
      connected = true;
      done();
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      record.ok = true;
      record.reply = SOCKS_REPLY.succeeded;
      // Before the reply: the client sends nothing through the tunnel until it has it.
      this.tunnelPorts.add(upstream.localPort!);
      client.write(reply(SOCKS_REPLY.succeeded));
      let seen = Buffer.alloc(0);
      const sniff = (chunk: Buffer) => {
        if (record.firstLine !== null || seen.length >= FIRST_LINE_MAX) return;
        seen = Buffer.concat([seen, chunk]).subarray(0, FIRST_LINE_MAX);
        const eol = seen.indexOf('\r\n');
        if (eol >= 0) record.firstLine = seen.subarray(0, eol).toString('latin1');
      };
      for (const chunk of early) {
        sniff(chunk);
        upstream.write(chunk);
      }
      // Swap the parser for plain forwarding within this tick, so no chunk can fall between them.
      client.off('data', onData);
      client.on('data', sniff);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
}

/** Tor answers with an all-zero IPv4 bound address; clients ignore it. */
function reply(code: number): Buffer {
  return Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}
