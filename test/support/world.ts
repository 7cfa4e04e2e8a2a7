// An in-process RelayStore for API tests, built by compose() from `relaystore serve` arguments as the
// service is: real keys and a real SQLite file in a temp directory, a fixed clock, a settable tip (one
// is known from the start) and fee estimate in place of the chain side; requests go through
// app.callback() without a port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import inject from 'light-my-request';
import { KeyRing } from '../../src/keys/keyring.js';
import type { Store } from '../../src/store/store.js';
import { compose } from '../../src/compose.js';
import { parseServeConfig } from '../../src/config.js';
import type { Tip } from '../../src/domain/locktime.js';
import type { AdmissionLevel } from '../../src/domain/admission.js';
import { silentLogger } from '../../src/util/log.js';

export interface World {
  dir: string;
  keys: KeyRing;
  store: Store;
  tip: Tip | null;
  /** The explorers' fee estimate (sat/vB) that /v1/info reports under `fees`. */
  feeEstimate: number | null;
  now: number;
  request(opts: { method: string; url: string; payload?: string | object; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface WorldOptions {
  maxPending?: number;
  maxSealedBytes?: number;
  /** How many times the keys are rotated (as `relaystore rotate-key` does) before the server starts. */
  rotations?: number;
  /** More `relaystore serve` arguments, e.g. ['--fee-target', '2'] or SPEC §8's ['--max-store-bytes', '4096']. */
  args?: readonly string[];
  /** Replaces the level the store's fill gives, to ask for an exact number of bits. */
  level?: () => AdmissionLevel;
}

function serveArgs(dataDir: string, opts: WorldOptions): string[] {
  const args = ['--network', 'regtest', '--tor', 'off', '--explorer', 'http://127.0.0.1:9/api', '--data-dir', dataDir, '--max-pending', String(opts.maxPending ?? 1000)];
  // A quota no test fills unless it asks for a smaller one.
  args.push('--max-store-bytes', String(1024 ** 3));
  if (opts.maxSealedBytes !== undefined) args.push('--max-sealed-bytes', String(opts.maxSealedBytes));
  return [...args, ...(opts.args ?? [])];
}

export async function makeWorld(opts: WorldOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-api-'));
  const dataDir = join(dir, 'data');
  for (let i = 0; i < (opts.rotations ?? 0); i++) await KeyRing.rotate(dataDir);
  const parsed = parseServeConfig(serveArgs(dataDir, opts), {});
  if (parsed.kind !== 'ok') throw new Error(parsed.problems.join('; '));
  const chain = { current: () => world.tip, feeEstimate: () => world.feeEstimate };
  const service = await compose(parsed.config, { clock: { now: () => world.now }, log: silentLogger, signer: 'pool', chain, ...(opts.level ? { admission: opts.level } : {}) });
  const world: World = {
    dir,
    keys: service.keys,
    store: service.store,
    // Height locktimes are refused until some tip is known (SPEC §8); tests that need none set null.
    tip: { height: 849_000, hash: '11'.repeat(32), medianTime: 1_717_990_000 },
    feeEstimate: null,
    now: 1_718_000_000_000,
    request: async ({ method, url, payload, headers }) => {
      const res = await inject(service.app.callback(), {
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
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}
