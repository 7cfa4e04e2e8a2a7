// The benchmark's plain Tor client: one HTTP/1.0 POST over a bare SOCKS5 CONNECT (RFC 1928/1929)
// on a raw socket, nothing of RelayStore's in the way, so the tor-burst ceiling is Tor's own.
import net from 'node:net';

export interface RawPost {
  readonly socksPort: number;
  readonly host: string;
  readonly path: string;
  readonly body: string;
  readonly username: string;
  readonly password: string;
  readonly timeoutMs: number;
}

/** The HTTP status the target answered, or the reason it could not be reached. */
export type RawAnswer = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'failed'; readonly reason: string };

/** What the client sends at each step: greeting, credentials, CONNECT, then the request itself. */
function steps(p: RawPost): Buffer[] {
  const user = Buffer.from(p.username);
  const pass = Buffer.from(p.password);
  const host = Buffer.from(p.host);
  const request = `POST ${p.path} HTTP/1.0\r\nHost: ${p.host}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(p.body)}\r\n\r\n${p.body}`;
  return [
    Buffer.from([5, 1, 2]),
    Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]),
    Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([0, 80])]),
    Buffer.from(request),
  ];
}

/** Each reply's length and what it must say; the HTTP status line comes last. */
const REPLIES = [
  { bytes: 2, ok: (b: Buffer) => b[0] === 5 && b[1] === 2, failure: 'socks method refused' },
  { bytes: 2, ok: (b: Buffer) => b[1] === 0, failure: 'socks auth refused' },
  { bytes: 10, ok: (b: Buffer) => b[1] === 0, failure: 'socks connect failed' },
];

function httpStatus(data: Buffer): RawAnswer | null {
  const text = data.toString('latin1');
  const line = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (line) return { kind: 'status', status: Number(line[1]) };
  return text.includes('\r\n') ? { kind: 'failed', reason: 'not HTTP' } : null;
}

/**
 * One step at a time, as a SOCKS client must: tor answers a greeting and credentials sent in one
 * write with the credentials' reply alone.
 */
export function rawSocksPost(p: RawPost): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: p.socksPort });
    const out = steps(p);
    let step = 0;
    let data = Buffer.alloc(0);
    const done = (answer: RawAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ kind: 'failed', reason: 'timeout' }), p.timeoutMs);
    socket.once('connect', () => socket.write(out[0]!));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      while (step < REPLIES.length && data.length >= REPLIES[step]!.bytes) {
        const reply = REPLIES[step]!;
        if (!reply.ok(data)) return done({ kind: 'failed', reason: `${reply.failure} (${data[1]})` });
        data = data.subarray(reply.bytes);
        socket.write(out[++step]!);
      }
      const answer = step === REPLIES.length ? httpStatus(data) : null;
      if (answer) done(answer);
    });
    socket.on('error', (err) => done({ kind: 'failed', reason: err.message }));
    socket.on('close', () => done({ kind: 'failed', reason: 'closed' }));
  });
}
