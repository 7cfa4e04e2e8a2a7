// The composition root: the one place where RelayStore's components are built and wired, for
// `relaystore serve`, the benchmark server and the API tests, from the configuration and what they inject.
import type Koa from 'koa';
import type { Config } from './config.js';
import type { Tip } from './domain/locktime.js';
import { admissionLevel, type AdmissionLevel } from './domain/admission.js';
import { KeyRing } from './keys/keyring.js';
import { InlineSigner, PoolSigner, WorkerSigner, type ReceiptSigner } from './keys/receipt-signer.js';
import type { KeyObject } from 'node:crypto';
import { Store } from './store/store.js';
import { Intake } from './engine/intake.js';
import { createApp, type InfoDeps } from './http/app.js';
import { loadPageAssets, pageRoutes } from './http/page.js';
import type { Transport } from './net/transport.js';
import { Esplora } from './chain/esplora.js';
import { ChainWatcher } from './chain/chain-watcher.js';
import { WorkerOpener } from './engine/opener.js';
import { EsploraBroadcaster } from './engine/broadcaster.js';
import { EsploraTracker } from './engine/tracker.js';
import { Pacer } from './net/pacer.js';
import { Scheduler } from './engine/scheduler.js';
import type { Clock } from './util/clock.js';
import { describeError, type Logger } from './util/log.js';
import type { Tally } from './util/tally.js';

/** What the API reads of the chain: the chain watcher once it runs, or a caller's stand-in. */
export interface ChainView {
  current(): Tip | null;
  /** sat/vB at --fee-target, or null while no explorer has answered. */
  feeEstimate(): number | null;
}

export interface Environment {
  readonly clock: Clock;
  readonly log: Logger;
  /** Receipts signed on libuv's pool or on the event loop rather than in a worker thread (tests, the benchmark's comparisons). */
  readonly signer?: 'worker' | 'pool' | 'inline';
  /** The onion address /v1/info reports; null until one is known. */
  readonly onion?: () => string | null;
  /** Answers for the chain where no watcher runs (API tests, the benchmark); the service leaves it out. */
  readonly chain?: ChainView;
  /** Replaces the price the store's fill gives (SPEC §8): tests that ask for an exact number of bits. */
  readonly admission?: () => AdmissionLevel;
  /** Where the API counts clients that leave or stall (the server writes it as a summary line). */
  readonly tally?: Tally;
}

/** The chain side once running: explorers, chain watcher, opener and scheduler. */
export interface ChainSide {
  readonly explorers: readonly string[];
  stop(): Promise<void>;
}

export interface Service {
  readonly keys: KeyRing;
  readonly store: Store;
  readonly intake: Intake;
  readonly app: Koa;
  /** Starts the chain side, its explorers reached through `transport`; called once, after the API listens. */
  startChain(transport: Transport): ChainSide;
  /** Stops the chain side and closes what compose() opened, last built first. */
  close(): Promise<void>;
}

const DAY = 86_400;

function signerOf(where: NonNullable<Environment['signer']>, key: KeyObject): ReceiptSigner {
  if (where === 'pool') return new PoolSigner(key);
  return where === 'inline' ? new InlineSigner(key) : new WorkerSigner(key);
}

export async function compose(config: Config, env: Environment): Promise<Service> {
  const keys = await KeyRing.loadOrCreate(config.dataDir);
  const store = await Store.open(config.dataDir, {
    maxPending: config.maxPending,
    maxStoreBytes: config.maxStoreBytes,
    log: env.log,
    wipeCheckpointDelayMs: config.testing.wipeCheckpointMs,
    maxPageCount: config.testing.maxDbPages,
  });
  const signer = signerOf(env.signer ?? 'worker', keys.receiptPrivateKey);
  let running: { watcher: ChainWatcher; side: ChainSide } | null = null;
  const chain: ChainView = env.chain ?? { current: () => running?.watcher.current() ?? null, feeEstimate: () => running?.watcher.feeEstimate() ?? null };
  const front: Front = {
    keys,
    // Until the first poll of this start answers, locktimes are judged against the last tip known (SPEC §8).
    tip: () => chain.current() ?? store.lastTip,
    feeEstimate: () => chain.feeEstimate(),
    admission: env.admission ?? (() => admissionLevel(store.admittedBytes, admissionOf(config))),
  };
  const intake = new Intake({ store, keys, signer, clock: env.clock, tip: front.tip, admission: front.admission, limits: limitsOf(config), retentionSeconds: retentionOf(config) });
  const app = await composeApp(config, env, intake, front);
  return {
    keys,
    store,
    intake,
    app,
    startChain: (transport) => {
      if (running) throw new Error('the chain side is already running');
      running = startChainSide(config, env, { store, keys, transport });
      return running.side;
    },
    close: async () => {
      await running?.side.stop();
      await signer.close();
      await store.close().catch((err) => env.log.log('error', 'store_close_failed', { error: describeError(err) }));
    },
  };
}

/** What intake, the API and the page all read: the same facts, from one place. */
interface Front {
  readonly keys: KeyRing;
  readonly tip: () => Tip | null;
  readonly feeEstimate: () => number | null;
  readonly admission: () => AdmissionLevel;
}

/** SPEC §8's quota and price (--max-store-bytes, --admission-threshold, --admission-max-bits). */
function admissionOf(config: Config) {
  return { maxStoreBytes: config.maxStoreBytes, threshold: config.admissionThreshold, maxBits: config.admissionMaxBits };
}

/** The limits of SPEC §6 that intake enforces and /v1/info reports. */
function limitsOf(config: Config) {
  return { maxSealedBytes: config.maxSealedBytes, maxWindowSeconds: config.maxWindowSeconds, horizonYears: config.horizonYears };
}

/** How long a finished record stays answerable (--retention-days). */
function retentionOf(config: Config): number {
  return config.retentionDays * DAY;
}

/** The HTTP API and the page, which report the same facts. */
async function composeApp(config: Config, env: Environment, intake: Intake, front: Front): Promise<Koa> {
  const info: InfoDeps = {
    keys: front.keys,
    network: config.network,
    tip: front.tip,
    onion: env.onion ?? (() => null),
    limits: limitsOf(config),
    fees: () => ({ targetBlocks: config.feeTargetBlocks, bumpBlocks: config.feeBumpBlocks, estimate: front.feeEstimate() }),
    admission: front.admission,
  };
  const page = pageRoutes({ ...info, intake, assets: await loadPageAssets() });
  return createApp({ ...info, intake, log: env.log, ...(env.tally ? { tally: env.tally } : {}), extraRoutes: page });
}

function startChainSide(config: Config, env: Environment, parts: { store: Store; keys: KeyRing; transport: Transport }) {
  const { clock, log } = env;
  const explorers = config.explorers.map((e) => new Esplora(e, parts.transport, { timeoutMs: config.requestTimeoutSeconds * 1000 }));
  const watcher = new ChainWatcher({ explorers, pollIntervalMs: config.pollIntervalSeconds * 1000, feeTargetBlocks: config.feeTargetBlocks, clock, log });
  // Its threads start, and warm up, once records wait to mature (the scheduler says when).
  const opener = new WorkerOpener(parts.keys.all());
  // One pacer for everything sent on fresh circuits: broadcasts, their checks, tracking.
  const pacer = new Pacer({ log });
  const scheduler = new Scheduler({
    store: parts.store,
    opener,
    broadcaster: new EsploraBroadcaster(explorers, log, pacer),
    tracker: new EsploraTracker(explorers, pacer),
    clock,
    tip: () => watcher.current(),
    log,
    confirmations: config.confirmations,
    checkIntervalSeconds: config.pollIntervalSeconds,
    retentionSeconds: retentionOf(config),
    retryMinSeconds: config.retryMinSeconds,
    retryMaxSeconds: config.retryMaxSeconds,
    feeEstimate: () => watcher.feeEstimate(),
    feeBumpBlocks: config.feeBumpBlocks,
  });
  watcher.onTip((next) => {
    scheduler.poke();
    parts.store.saveTip(next).catch((err) => log.log('error', 'tip_save_failed', { error: describeError(err) }));
  });
  watcher.start();
  scheduler.start();
  const stop = async () => {
    await watcher.stop();
    await scheduler.stop();
    await opener.close();
  };
  return { watcher, side: { explorers: explorers.map((e) => e.label), stop } };
}
