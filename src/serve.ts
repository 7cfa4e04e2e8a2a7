// `relaystore serve`: the entry point. It listens, starts Tor (or not) to reach the explorers, and
// lets compose() build and wire everything else.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Config } from './config.js';
import { compose } from './compose.js';
import { DirectTransport, SocksTransport, type Transport } from './net/transport.js';
import { systemClock } from './util/clock.js';
import type { Logger } from './util/log.js';

export interface TorHandle {
  readonly socksUrl: string;
  readonly onion: string | null;
  stop(): Promise<void>;
}

/** Starts a managed tor once the API listens; injected so that serve() does not know how. */
export type TorStarter = (opts: { dataDir: string; apiHost: string; apiPort: number; torConfig: string | null; log: Logger }) => Promise<TorHandle>;

export interface Running {
  readonly url: string;
  stop(): Promise<void>;
}

export async function serve(config: Config, log: Logger, startTor: TorStarter | null): Promise<Running> {
  let tor: TorHandle | null = null;
  const service = await compose(config, { clock: systemClock, log, onion: () => tor?.onion ?? config.onion });
  const server = await listen(service.app, config).catch(async (err) => {
    await service.close();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.log('info', 'listening', { url, network: config.network, keyId: service.keys.current.keyId });
  const stop = async () => {
    log.log('info', 'stopping');
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await service.close();
    await tor?.stop();
    log.log('info', 'stopped');
  };
  try {
    if (config.tor === 'managed') {
      if (!startTor) throw new Error('managed tor is not available in this build');
      tor = await startTor({ dataDir: config.dataDir, apiHost: address.address, apiPort: address.port, torConfig: config.torConfig, log });
    }
    const chain = service.startChain(transportFor(config, tor, log));
    log.log('info', 'ready', { explorers: chain.explorers, tor: config.tor, onion: tor?.onion ?? config.onion });
  } catch (err) {
    await stop();
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return { url, stop: () => (stopping ??= stop()) };
}

async function listen(app: Koa, config: Config): Promise<http.Server> {
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 10_000;
  // Tor clients are slow, but a request that trickles in for longer than this is not a client.
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  return server;
}

/** How explorers are reached: the managed tor's SOCKS port, an external one, or (regtest only) directly. */
function transportFor(config: Config, tor: TorHandle | null, log: Logger): Transport {
  if (tor) return new SocksTransport(tor.socksUrl);
  if (config.tor === 'external') return new SocksTransport(config.socks);
  log.log('warn', 'tor_off', { note: 'regtest with --tor off: explorer connections are direct, not through Tor' });
  return new DirectTransport();
}
