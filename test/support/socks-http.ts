// JSON over HTTP through a SOCKS5 proxy (a Tor client's SocksPort), for reaching onion services in tests.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { SocksProxyAgent } from 'socks-proxy-agent';

export async function socksJson(socksUrl: string, url: string, opts: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ status: number; json: any }> {
  const proxy = new URL(socksUrl);
  proxy.username = `test-${randomBytes(6).toString('hex')}`;
  proxy.password = 'x';
  const agent = new SocksProxyAgent(proxy);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        agent,
        timeout: opts.timeoutMs ?? 30_000,
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Retries while an onion descriptor is still on its way (SOCKS error 4 for the first seconds). */
export async function socksJsonRetry(socksUrl: string, url: string, opts: Parameters<typeof socksJson>[2] = {}, budgetMs = 60_000): Promise<{ status: number; json: any }> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await socksJson(socksUrl, url, opts);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
