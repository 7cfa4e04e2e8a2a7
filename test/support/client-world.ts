// The world of the client tests: `relaystore serve` (child process) with a local Esplora test
// explorer, and one real SOCKS5 server that both the service and the client must go through.
// The client reaches the service by name (`relaystore.test`), as it would reach an onion.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestExplorer } from './explorer.js';
import { TestSocksServer } from './socks5-server.js';
import { startService, type Service } from './service.js';
import { serveArgs } from './serve-args.js';

export const SERVER_NAME = 'relaystore.test';
/** A server that relays to the real one but flips a bit of every receipt it hands out. */
export const TAMPERING_NAME = 'tampering.test';
const EXPLORER_NAME = 'explorer-a.test';

export interface ClientWorld {
  dir: string;
  explorer: TestExplorer;
  socks: TestSocksServer;
  service: Service;
  /** The URL clients use: a name only the SOCKS server can resolve. */
  server: string;
  /** Mines `n` blocks and waits until the service's scheduler has judged the new tip. */
  mine(n: number): Promise<void>;
}

export async function makeClientWorld(t: { teardown(fn: () => unknown): void }): Promise<ClientWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-client-'));
  const explorer = await TestExplorer.start({ startHeight: 300, unknownTxStatus: 'unconfirmed' });
  let servicePort = 0;
  const tamper = http.createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: servicePort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks).toString('utf8');
        body = body.replace(/"receipt":"([0-9a-f])/, (_m, c: string) => `"receipt":"${((parseInt(c, 16) + 1) % 16).toString(16)}`);
        res.writeHead(up.statusCode ?? 502, { 'content-type': 'application/json; charset=utf-8' });
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => tamper.listen(0, '127.0.0.1', resolve));
  const socks = await TestSocksServer.start({
    resolve: (host, port) => {
      if (port !== 80) return null;
      if (host === EXPLORER_NAME) return { host: '127.0.0.1', port: explorer.port };
      if (host === SERVER_NAME) return { host: '127.0.0.1', port: servicePort };
      if (host === TAMPERING_NAME) return { host: '127.0.0.1', port: (tamper.address() as AddressInfo).port };
      return null;
    },
  });
  let service: Service | null = null;
  t.teardown(async () => {
    await service?.kill('SIGTERM');
    await socks.close();
    await new Promise((resolve) => tamper.close(resolve));
    await explorer.close();
    await rm(dir, { recursive: true, force: true });
  });
  service = await startService(
    serveArgs({
      dataDir: join(dir, 'data'),
      explorers: [`http://${EXPLORER_NAME}/api`],
      tor: { mode: 'external', socks: socks.url },
      confirmations: 2,
      requestTimeoutSeconds: 3,
    }),
  );
  servicePort = Number(new URL(service.url).port);
  const live = service;
  await live.judged(explorer.tip().height);
  return {
    dir,
    explorer,
    socks,
    service,
    server: `http://${SERVER_NAME}`,
    mine: async (n) => {
      explorer.mine(n);
      await live.judged(explorer.tip().height);
    },
  };
}
