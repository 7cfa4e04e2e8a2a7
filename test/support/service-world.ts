// The service as operators run it (`relaystore serve` child process, --tor external) in front of a
// real local Esplora test explorer that it reaches only through a real local SOCKS5 server, which
// records every connection. Two explorer names point at one simulated regtest chain.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestExplorer, type ExplorerOptions } from './explorer.js';
import { TestSocksServer } from './socks5-server.js';
import { startService, type Service } from './service.js';
import { TestClient } from './client.js';
import { serveArgs } from './serve-args.js';

export const EXPLORER_NAMES = ['explorer-a.test', 'explorer-b.test'];

export interface ServiceWorld {
  dir: string;
  args: string[];
  openFiles?: number;
  /** Environment of the service beyond the test's own (test knobs such as RELAYSTORE_TEST_MAX_DB_PAGES). */
  env: NodeJS.ProcessEnv;
  explorer: TestExplorer;
  socks: TestSocksServer;
  service: Service;
  client: TestClient;
}

export interface ServiceWorldOptions {
  confirmations?: number;
  explorer?: ExplorerOptions;
  /** More `serve` flags, e.g. --fee-target. */
  args?: string[];
  /** The service's open-files limit (ulimit -n); default the test runner's. */
  openFiles?: number;
  env?: NodeJS.ProcessEnv;
}

export async function startServiceWorld(t: { teardown(fn: () => unknown): void }, opts: ServiceWorldOptions = {}): Promise<ServiceWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-it-'));
  // Like real Esplora, /tx/:txid/status answers {"confirmed":false} for a txid it does not know.
  const explorer = await TestExplorer.start({ startHeight: 200, unknownTxStatus: 'unconfirmed', ...opts.explorer });
  const socks = await TestSocksServer.start({
    resolve: (host, port) => (EXPLORER_NAMES.includes(host) && port === 80 ? { host: '127.0.0.1', port: explorer.port } : null),
  });
  const args = [
    ...serveArgs({
      dataDir: join(dir, 'data'),
      explorers: EXPLORER_NAMES.map((n) => `http://${n}/api`),
      tor: { mode: 'external', socks: socks.url },
      confirmations: opts.confirmations ?? 2,
      requestTimeoutSeconds: 3,
    }),
    ...(opts.args ?? []),
  ];
  const world: ServiceWorld = { dir, args, env: opts.env ?? {}, explorer, socks, service: null as unknown as Service, client: null as unknown as TestClient, ...(opts.openFiles ? { openFiles: opts.openFiles } : {}) };
  t.teardown(async () => {
    await world.service?.kill('SIGTERM');
    await socks.close();
    await explorer.close();
    await rm(dir, { recursive: true, force: true });
  });
  await restartService(world);
  return world;
}

/** Starts the service (again) on the world's data directory and waits until it follows the tip. */
export async function restartService(world: ServiceWorld): Promise<void> {
  world.service = await startService(world.args, world.env, undefined, world.openFiles);
  world.client = new TestClient(world.service.url);
  await waitForTip(world, world.explorer.tip().height);
}

/** Resolves once the scheduler has judged `height`: whatever that tip makes due has been decided. */
export async function waitForTip(world: ServiceWorld, height: number): Promise<void> {
  await world.service.judged(height);
}

/** Mines on the explorer and waits until the service has seen the new tip. */
export async function mine(world: ServiceWorld, n: number, opts: { minFeeRate?: number } = {}): Promise<void> {
  world.explorer.mine(n, opts);
  await waitForTip(world, world.explorer.tip().height);
}
