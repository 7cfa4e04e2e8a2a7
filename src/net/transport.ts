// Outgoing HTTP with hard limits (deadline, response size). The SOCKS transport gives every
// request the SOCKS credentials it is handed, so Tor's IsolateSOCKSAuth puts it on its own circuit.
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { SocksProxyAgent } from 'socks-proxy-agent';

export type HttpOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly body: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

export interface SocksCredentials {
  readonly username: string;
  readonly password: string;
}

export interface RequestOptions {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly body?: string;
  /** Default `text/plain`, as Esplora's POST /tx expects; the client library sends JSON. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly credentials: SocksCredentials;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export interface Transport {
  /** Whether requests leave through Tor; `/v1/info` and the logs say so. */
  readonly viaTor: boolean;
  request(url: string, options: RequestOptions): Promise<HttpOutcome>;
}

/** Fresh isolation credentials. The prefix avoids Tor's reserved `<torS0X>` usernames (proposal 351). */
export function freshCredentials(): SocksCredentials {
  return { username: `rs-${randomBytes(12).toString('hex')}`, password: randomBytes(12).toString('hex') };
}

export class SocksTransport implements Transport {
  readonly viaTor = true;
  private readonly socksUrl: () => string;

  /** `socksUrl`, or where to read it at each request (a managed tor restarted on another port). */
  constructor(socksUrl: string | (() => string)) {
    this.socksUrl = typeof socksUrl === 'string' ? () => socksUrl : socksUrl;
    socks5hOnly(this.socksUrl());
  }

  request(url: string, options: RequestOptions): Promise<HttpOutcome> {
    const proxy = socks5hOnly(this.socksUrl());
    proxy.username = encodeURIComponent(options.credentials.username);
    proxy.password = encodeURIComponent(options.credentials.password);
    // A new agent per request: no keep-alive pool, so two requests never share a connection.
    const agent = new SocksProxyAgent(proxy, { keepAlive: false, timeout: options.timeoutMs });
    return send(url, options, agent);
  }
}

/** socks5h only: the proxy (Tor) resolves names, so no explorer name is ever looked up locally. */
function socks5hOnly(socksUrl: string): URL {
  const proxy = new URL(socksUrl);
  if (proxy.protocol !== 'socks5h:') throw new Error(`the SOCKS URL must use socks5h:// (got ${proxy.protocol}//)`);
  return proxy;
}

/** Regtest with Tor explicitly off: plain connections, never chosen silently. */
export class DirectTransport implements Transport {
  readonly viaTor = false;

  request(url: string, options: RequestOptions): Promise<HttpOutcome> {
    return send(url, options, false);
  }
}

function send(url: string, options: RequestOptions, agent: http.Agent | false): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'User-Agent': 'relaystore', Accept: '*/*', Connection: 'close', ...options.headers };
    if (options.body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'text/plain';
      headers['Content-Length'] = String(Buffer.byteLength(options.body));
    }
    const req = lib.request(target, { method: options.method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          req.destroy();
          done({ kind: 'unreachable', reason: `response larger than ${options.maxBytes} bytes` });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => done({ kind: 'response', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => done({ kind: 'unreachable', reason: err.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ kind: 'unreachable', reason: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    req.on('error', (err) => done({ kind: 'unreachable', reason: (err as NodeJS.ErrnoException).code ?? err.message }));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
