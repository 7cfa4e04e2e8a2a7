// An in-process RelayStore for API tests: real keys and a real SQLite file in a temp directory,
// a fixed clock and a settable tip (one is known from the start); requests go through app.callback()
// without a port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import inject from 'light-my-request';
import { KeyRing } from '../../src/keys/keyring.js';
import { Store } from '../../src/store/store.js';
import { Intake } from '../../src/engine/intake.js';
import { createApp } from '../../src/http/app.js';
import { loadPageAssets, pageRoutes } from '../../src/http/page.js';
import type { Tip } from '../../src/domain/locktime.js';
import type { Fees } from '../../src/wire/answers.js';
import { admissionLevel, type AdmissionLevel, type AdmissionOptions } from '../../src/domain/admission.js';
import { silentLogger } from '../../src/util/log.js';

export interface World {
  dir: string;
  keys: KeyRing;
  store: Store;
  tip: Tip | null;
  /** What /v1/info says under `fees`. */
  fees: Fees;
  now: number;
  request(opts: { method: string; url: string; payload?: string | object; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface WorldOptions {
  maxPending?: number;
  maxSealedBytes?: number;
  page?: boolean;
  /** How many times the keys are rotated (as `relaystore rotate-key` does) before the server starts. */
  rotations?: number;
  /** SPEC §8's quota and price; by default a quota no test fills. */
  admission?: Partial<AdmissionOptions>;
  /** Replaces the level the store's fill gives, to ask for an exact number of bits. */
  level?: () => AdmissionLevel;
}

export async function makeWorld(opts: WorldOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-api-'));
  for (let i = 0; i < (opts.rotations ?? 0); i++) await KeyRing.rotate(join(dir, 'data'));
  const keys = await KeyRing.loadOrCreate(join(dir, 'data'));
  const admissionOptions: AdmissionOptions = { maxStoreBytes: 1024 ** 3, threshold: 0.5, maxBits: 24, ...opts.admission };
  const store = await Store.open(join(dir, 'data'), { maxPending: opts.maxPending ?? 1000, maxStoreBytes: admissionOptions.maxStoreBytes });
  const admission = opts.level ?? (() => admissionLevel(store.admittedBytes, admissionOptions));
  const limits = { maxSealedBytes: opts.maxSealedBytes ?? 102_400, maxWindowSeconds: 86_400 };
  const world: World = {
    dir,
    keys,
    store,
    // Height locktimes are refused until some tip is known (SPEC §8); tests that need none set null.
    tip: { height: 849_000, hash: '11'.repeat(32), medianTime: 1_717_990_000 },
    fees: { targetBlocks: 6, bumpBlocks: 3, estimate: null },
    now: 1_718_000_000_000,
    request: async ({ method, url, payload, headers }) => {
      const res = await inject(app.callback(), {
        method: method as never,
        url,
        payload: typeof payload === 'object' ? JSON.stringify(payload) : payload,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      });
      let json: unknown = undefined;
      try {
        json = JSON.parse(res.payload);
      } catch {
        json = res.payload;
      }
      return { status: res.statusCode, json, text: res.payload, headers: res.headers };
    },
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  const intake = new Intake({
    store,
    keys,
    clock: { now: () => world.now },
    tip: () => world.tip,
    admission,
    limits: { ...limits, horizonYears: 5 },
    retentionSeconds: 30 * 86_400,
  });
  const extraRoutes = opts.page
    ? pageRoutes({ intake, keys, network: 'regtest', tip: () => world.tip, admission, onion: () => null, limits, fees: () => world.fees, assets: await loadPageAssets() })
    : undefined;
  const app = createApp({ intake, keys, network: 'regtest', tip: () => world.tip, admission, onion: () => null, limits, fees: () => world.fees, log: silentLogger, ...(extraRoutes ? { extraRoutes } : {}) });
  return world;
}
