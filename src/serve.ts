// `relaystore serve`: the entry point, and the only place where components are wired together.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { KeyRing } from './keys/keyring.js';
import { Store } from './store/store.js';
import { DirectTransport, SocksTransport, type Transport } from './net/transport.js';
import { Esplora } from './chain/esplora.js';
import { ChainWatcher } from './chain/chain-watcher.js';
import { WorkerOpener } from './engine/opener.js';
import { WorkerSigner } from './keys/receipt-signer.js';
import { EsploraBroadcaster } from './engine/broadcaster.js';
import { EsploraTracker } from './engine/tracker.js';
import { Scheduler } from './engine/scheduler.js';
import { Intake } from './engine/intake.js';
import { createApp } from './http/app.js';
import { loadPageAssets, pageRoutes } from './http/page.js';
import { systemClock } from './util/clock.js';
import { admissionLevel } from './domain/admission.js';
import { describeError, type Logger } from './util/log.js';

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
  const clock = systemClock;
  const keys = await KeyRing.loadOrCreate(config.dataDir);
  const store = await Store.open(config.dataDir, { maxPending: config.maxPending, maxStoreBytes: config.maxStoreBytes });
  const admissionOptions = { maxStoreBytes: config.maxStoreBytes, threshold: config.admissionThreshold, maxBits: config.admissionMaxBits };
  const admission = () => admissionLevel(store.admittedBytes, admissionOptions);
  // Until the first poll of this start answers, locktimes are judged against the last tip known (SPEC §8).
  const currentTip = () => tip?.current() ?? store.lastTip;

  let onion: string | null = config.onion;
  let tip: ChainWatcher | null = null;
  const signer = new WorkerSigner(keys.receiptPrivateKey);
  const intake = new Intake({
    store,
    keys,
    signer,
    clock,
    tip: currentTip,
    admission,
    limits: { maxSealedBytes: config.maxSealedBytes, maxWindowSeconds: config.maxWindowSeconds, horizonYears: config.horizonYears },
    retentionSeconds: config.retentionDays * 86_400,
  });
  const limits = { maxSealedBytes: config.maxSealedBytes, maxWindowSeconds: config.maxWindowSeconds };
  const fees = () => ({ targetBlocks: config.feeTargetBlocks, bumpBlocks: config.feeBumpBlocks, estimate: tip?.feeEstimate() ?? null });
  const app = createApp({
    intake,
    keys,
    network: config.network,
    tip: currentTip,
    onion: () => onion,
    limits,
    fees,
    admission,
    log,
    extraRoutes: pageRoutes({ intake, keys, network: config.network, tip: currentTip, onion: () => onion, limits, fees, admission, assets: await loadPageAssets() }),
  });
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 10_000;
  // Tor clients are slow, but a request that trickles in for longer than this is not a client.
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.log('info', 'listening', { url, network: config.network, keyId: keys.current.keyId });

  let tor: TorHandle | null = null;
  let transport: Transport;
  if (config.tor === 'managed') {
    if (!startTor) throw new Error('managed tor is not available in this build');
    tor = await startTor({ dataDir: config.dataDir, apiHost: address.address, apiPort: address.port, torConfig: config.torConfig, log });
    onion = tor.onion;
    transport = new SocksTransport(tor.socksUrl);
  } else if (config.tor === 'external') {
    transport = new SocksTransport(config.socks);
  } else {
    log.log('warn', 'tor_off', { note: 'regtest with --tor off: explorer connections are direct, not through Tor' });
    transport = new DirectTransport();
  }

  const explorers = config.explorers.map((e) => new Esplora(e, transport, { timeoutMs: config.requestTimeoutSeconds * 1000 }));
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: config.pollIntervalSeconds * 1000, feeTargetBlocks: config.feeTargetBlocks, clock, log });
  tip = watcher;
  const opener = new WorkerOpener(keys.all());
  const scheduler = new Scheduler({
    store,
    opener,
    broadcaster: new EsploraBroadcaster(explorers, log),
    tracker: new EsploraTracker(explorers),
    clock,
    tip: () => watcher.current(),
    log,
    confirmations: config.confirmations,
    checkIntervalSeconds: config.pollIntervalSeconds,
    retentionSeconds: config.retentionDays * 86_400,
    retryMinSeconds: config.retryMinSeconds,
    retryMaxSeconds: config.retryMaxSeconds,
    feeEstimate: () => watcher.feeEstimate(),
    feeBumpBlocks: config.feeBumpBlocks,
  });
  watcher.onTip((next) => {
    scheduler.poke();
    store.saveTip(next).catch((err) => log.log('error', 'tip_save_failed', { error: describeError(err) }));
  });
  watcher.start();
  scheduler.start();
  log.log('info', 'ready', { explorers: explorers.map((e) => e.label), tor: config.tor, onion });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.log('info', 'stopping');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await watcher.stop();
      await scheduler.stop();
      await opener.close();
      await signer.close();
      await store.close().catch((err) => log.log('error', 'store_close_failed', { error: describeError(err) }));
      await tor?.stop();
      log.log('info', 'stopped');
    })());
  return { url, stop };
}
