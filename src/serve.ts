// `relaystore serve`: the entry point. It listens, starts Tor (or not) to reach the explorers, and
// lets compose() build and wire everything else.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Config } from './config.js';
import { compose } from './compose.js';
import { DirectTransport, SocksTransport, type Transport } from './net/transport.js';
import { createHttpServer, type HttpServerOptions } from './http/server.js';
import { connectionBudget, openDescriptors, openFilesLimit, outgoingDescriptors } from './http/descriptors.js';
import { PACER_MAX } from './net/pacer.js';
import { Tally } from './util/tally.js';
import { systemClock } from './util/clock.js';
import type { Logger } from './util/log.js';

export interface TorHandle {
  /** The SOCKS port of the tor running now (a restarted tor binds another). */
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
  // First, before anything holds a thread or a file: a limit too low for the service stops it here.
  const maxConnections = await clientConnections(config, log);
  const tally = new Tally(log, systemClock);
  let tor: TorHandle | null = null;
  const service = await compose(config, { clock: systemClock, log, tally, onion: () => tor?.onion ?? config.onion });
  const server = await listen(service.app, config, { maxConnections, tally }).catch(async (err) => {
    await service.close();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.log('info', 'listening', { url, network: config.network, keyId: service.keys.current.keyId });
  const stopSummaries = tally.every(SUMMARY_MS);
  const stop = async () => {
    log.log('info', 'stopping');
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await service.close();
    await tor?.stop();
    stopSummaries();
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

async function listen(app: Koa, config: Config, options: HttpServerOptions): Promise<http.Server> {
  const server = createHttpServer(app.callback(), options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  return server;
}

/** How explorers are reached: the managed tor's SOCKS port, an external one, or (regtest only) directly. */
function transportFor(config: Config, tor: TorHandle | null, log: Logger): Transport {
  if (tor) return new SocksTransport(() => tor.socksUrl);
  if (config.tor === 'external') return new SocksTransport(config.socks);
  log.log('warn', 'tor_off', { note: 'regtest with --tor off: explorer connections are direct, not through Tor' });
  return new DirectTransport();
}

/** Aborts, timeouts and refused connections are written as one line this often. */
const SUMMARY_MS = 60_000;

/** --max-connections, lowered so that outgoing work keeps its descriptors (SPEC §8); logged. */
async function clientConnections(config: Config, log: Logger): Promise<number> {
  const outgoing = outgoingDescriptors({ explorers: config.explorers.length, perExplorer: PACER_MAX });
  const budget = connectionBudget(config.maxConnections, await openFilesLimit(), await openDescriptors(), outgoing);
  if (budget.kind === 'too_few') throw new Error(budget.message);
  const { maxConnections, openFilesLimit: limit, reserved, clamped } = budget;
  log.log(clamped ? 'warn' : 'info', 'connections', { maxConnections, requested: config.maxConnections, openFilesLimit: limit, reservedForOutgoing: reserved });
  return maxConnections;
}
