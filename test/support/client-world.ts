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
  /** Mines `n` blocks and waits until the service has seen the new tip. */
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
  service = await startService([
    '--network', 'regtest',
    '--tor', 'external',
    '--socks', socks.url,
    '--explorer', `http://${EXPLORER_NAME}/api`,
    '--data-dir', join(dir, 'data'),
    '--listen', '127.0.0.1:0',
    '--poll-interval', '1',
    '--confirmations', '2',
    '--retry-min', '1',
    '--retry-max', '2',
    '--request-timeout', '3',
  ]);
  servicePort = Number(new URL(service.url).port);
  const live = service;
  const seenHeight = async (height: number) => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const info = (await (await fetch(`${live.url}/v1/info`)).json()) as { tip: { height: number } | null };
      if (info.tip && info.tip.height >= height) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the service never saw height ${height}`);
  };
  await seenHeight(explorer.tip().height);
  return {
    dir,
    explorer,
    socks,
    service,
    server: `http://${SERVER_NAME}`,
    mine: async (n) => {
      explorer.mine(n);
      await seenHeight(explorer.tip().height);
    },
  };
}
