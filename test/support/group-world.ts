// The world of the group tests: three `relaystore serve` instances (child processes, as three
// operators run them) against the one local test explorer, all reached through one recording SOCKS5
// server by name (`relay-a.test` …), as a wallet reaches three onions. Instances can be killed,
// restarted, and have their data directory replaced.
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armedRecords } from './data-dir.js';
import { TestExplorer } from './explorer.js';
import { TestSocksServer } from './socks5-server.js';
import { startService, type Service } from './service.js';
import { serveArgs } from './serve-args.js';

export const LETTERS = ['a', 'b', 'c'] as const;
export type Letter = (typeof LETTERS)[number];

export interface Instance {
  readonly letter: Letter;
  /** The URL clients use: a name only the SOCKS server can resolve. */
  readonly server: string;
  /** The explorer name this instance (alone) uses, so the SOCKS log tells which instance sent what. */
  readonly explorerName: string;
  readonly dataDir: string;
  service: Service | null;
  port: number;
}

export interface GroupWorld {
  dir: string;
  explorer: TestExplorer;
  socks: TestSocksServer;
  instances: Record<Letter, Instance>;
  servers: string[];
  kill(letter: Letter): Promise<void>;
  start(letter: Letter): Promise<void>;
  /** Stops the instance, moves its data directory away, and starts it on a fresh one (new keys, empty store). */
  replaceDataDir(letter: Letter): Promise<void>;
  /** Mines `n` blocks and waits until every running instance's scheduler has judged the new tip. */
  mine(n: number): Promise<void>;
  /** How many transactions this instance has POSTed to the explorer (the SOCKS log, by its explorer name). */
  posts(letter: Letter): number;
  /** Records on this instance's disk that still hold a sealed blob (armed: not yet final). */
  armed(letter: Letter): Promise<string[]>;
}

export async function makeGroupWorld(t: { teardown(fn: () => unknown): void }, extraArgs: Partial<Record<Letter, string[]>> = {}): Promise<GroupWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-group-'));
  const explorer = await TestExplorer.start({ startHeight: 500, unknownTxStatus: 'unconfirmed' });
  const instances = Object.fromEntries(
    LETTERS.map((l) => [l, { letter: l, server: `http://relay-${l}.test`, explorerName: `explorer-${l}.test`, dataDir: join(dir, `data-${l}`), service: null, port: 0 }]),
  ) as Record<Letter, Instance>;
  const socks = await TestSocksServer.start({
    resolve: (host, port) => {
      if (port !== 80) return null;
      const byExplorer = LETTERS.find((l) => instances[l].explorerName === host);
      if (byExplorer) return { host: '127.0.0.1', port: explorer.port };
      const byServer = LETTERS.find((l) => `relay-${l}.test` === host);
      // A stopped instance is a closed port: the SOCKS server answers "connection refused", as Tor does for a dead onion.
      return byServer ? { host: '127.0.0.1', port: instances[byServer].port || 1 } : null;
    },
  });
  t.teardown(async () => {
    await Promise.all(LETTERS.map((l) => instances[l].service?.kill('SIGTERM')));
    await socks.close();
    await explorer.close();
    await rm(dir, { recursive: true, force: true });
  });

  const seen = (inst: Instance, height: number) => inst.service!.judged(height);
  const start = async (l: Letter) => {
    const inst = instances[l];
    inst.service = await startService(
      serveArgs({
        dataDir: inst.dataDir,
        explorers: [`http://${inst.explorerName}/api`],
        tor: { mode: 'external', socks: socks.url },
        confirmations: 2,
        requestTimeoutSeconds: 3,
        extra: extraArgs[l] ?? [],
      }),
    );
    inst.port = Number(new URL(inst.service.url).port);
    await seen(inst, explorer.tip().height);
  };
  const kill = async (l: Letter) => {
    await instances[l].service?.kill('SIGKILL');
    instances[l].service = null;
    instances[l].port = 0;
  };
  await Promise.all(LETTERS.map(start));
  return {
    dir,
    explorer,
    socks,
    instances,
    servers: LETTERS.map((l) => instances[l].server),
    kill,
    start,
    replaceDataDir: async (l) => {
      await kill(l);
      await rename(instances[l].dataDir, `${instances[l].dataDir}-replaced`);
      await start(l);
    },
    mine: async (n) => {
      explorer.mine(n);
      await Promise.all(LETTERS.filter((l) => instances[l].service).map((l) => seen(instances[l], explorer.tip().height)));
    },
    posts: (l) => socks.connections.filter((c) => c.host === instances[l].explorerName && c.firstLine === 'POST /api/tx HTTP/1.1').length,
    armed: (l) => armedRecords(instances[l].dataDir),
  };
}

