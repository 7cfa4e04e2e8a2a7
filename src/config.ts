// `relaystore serve` configuration (SPEC §6): flags, RELAYSTORE_* environment variables, defaults,
// and validation that reports every problem at once.
import { resolve } from 'node:path';
import { Network } from './wire/vocabulary.js';
import { DEFAULT_SOCKS, isLoopbackHost } from './net/route.js';

export type TorMode = 'managed' | 'external' | 'off';

export interface Config {
  readonly network: Network;
  readonly dataDir: string;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly allowPublicListen: boolean;
  readonly explorers: readonly string[];
  readonly tor: TorMode;
  readonly socks: string;
  readonly onion: string | null;
  readonly torConfig: string | null;
  readonly pollIntervalSeconds: number;
  readonly confirmations: number;
  readonly feeTargetBlocks: number;
  readonly feeBumpBlocks: number;
  readonly maxPending: number;
  readonly maxStoreBytes: number;
  readonly admissionThreshold: number;
  readonly admissionMaxBits: number;
  readonly maxConnections: number;
  readonly maxSealedBytes: number;
  readonly maxWindowSeconds: number;
  readonly horizonYears: number;
  readonly retentionDays: number;
  readonly retryMinSeconds: number;
  readonly retryMaxSeconds: number;
  readonly requestTimeoutSeconds: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Knobs for tests only, from the environment (not in --help): a disk that fills, a late checkpoint. */
  readonly testing: TestKnobs;
}

export interface TestKnobs {
  /** RELAYSTORE_TEST_MAX_DB_PAGES: SQLite's max_page_count, a disk that is full at that many pages. */
  readonly maxDbPages?: number;
  /** RELAYSTORE_TEST_WIPE_CHECKPOINT_MS: how long after a wipe the WAL is truncated (default 250). */
  readonly wipeCheckpointMs?: number;
}

function testKnobs(env: NodeJS.ProcessEnv): TestKnobs {
  const knob = (name: string) => (/^\d+$/.test(env[name] ?? '') ? Number(env[name]) : undefined);
  return { maxDbPages: knob('RELAYSTORE_TEST_MAX_DB_PAGES'), wipeCheckpointMs: knob('RELAYSTORE_TEST_WIPE_CHECKPOINT_MS') };
}

const NETWORKS: readonly Network[] = Network.enum;

const MEMPOOL_ONION = 'http://mempoolhqx4isw62xs7abwphsq7ldayuidyx2v2oethdhhj6mlo2r6ad.onion';
const BLOCKSTREAM_ONION = 'http://explorerzydxu5ecjrkwceayqybizmpjjznk5izmitf2modhcusuqlid.onion';

export const DEFAULT_EXPLORERS: Record<Network, readonly string[]> = {
  bitcoin: [`${MEMPOOL_ONION}/api`, `${BLOCKSTREAM_ONION}/api`],
  testnet: [`${MEMPOOL_ONION}/testnet/api`, `${BLOCKSTREAM_ONION}/testnet/api`],
  testnet4: [`${MEMPOOL_ONION}/testnet4/api`],
  signet: [`${MEMPOOL_ONION}/signet/api`],
  regtest: [],
};

interface OptionSpec {
  readonly name: string;
  readonly flag: boolean;
  readonly repeat?: boolean;
  readonly help: string;
}

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'network', flag: false, help: 'bitcoin | testnet | testnet4 | signet | regtest (default bitcoin)' },
  { name: 'data-dir', flag: false, help: 'database, keys and Tor state (default ./data, created 0700)' },
  { name: 'listen', flag: false, help: 'HOST:PORT of the API (default 127.0.0.1:8080)' },
  { name: 'allow-public-listen', flag: true, help: 'allow a non-loopback --listen address' },
  { name: 'explorer', flag: false, repeat: true, help: 'Esplora API base URL, repeatable (env: comma-separated)' },
  { name: 'tor', flag: false, help: 'managed | external | off (default managed; off is regtest only)' },
  { name: 'socks', flag: false, help: `Tor SOCKS URL for --tor external (default ${DEFAULT_SOCKS})` },
  { name: 'onion', flag: false, help: 'the onion address to report in /v1/info (--tor external)' },
  { name: 'tor-config', flag: false, help: 'file of torrc lines appended to the managed tor configuration' },
  { name: 'poll-interval', flag: false, help: 'seconds between chain polls (default 30)' },
  { name: 'confirmations', flag: false, help: 'depth at which a transaction is confirmed (default 6)' },
  { name: 'fee-target', flag: false, help: 'confirmation target in blocks whose fee estimate picks the rung (default 6)' },
  { name: 'fee-bump-blocks', flag: false, help: 'blocks a sent rung may stay unconfirmed before the next replaces it (default 3)' },
  { name: 'max-pending', flag: false, help: 'pending records above which submissions get store_full (default 1000000)' },
  { name: 'max-store-bytes', flag: false, help: 'sealed bytes of unfinished records above which submissions get store_full (default 8 GiB)' },
  { name: 'admission-threshold', flag: false, help: 'fraction of --max-store-bytes from which submissions need a stamp (default 0.5)' },
  { name: 'admission-max-bits', flag: false, help: 'stamp bits asked at a full store (default 24)' },
  { name: 'max-connections', flag: false, help: 'open client connections at most, lowered to fit the open-files limit (default 512)' },
  { name: 'max-sealed-bytes', flag: false, help: 'largest sealed blob accepted (default 102400)' },
  { name: 'max-window', flag: false, help: 'largest window in seconds (default 86400)' },
  { name: 'horizon-years', flag: false, help: 'locktimes further ahead get locktime_too_far (default 5)' },
  { name: 'retention-days', flag: false, help: 'days a finished record stays answerable (default 30)' },
  { name: 'retry-min', flag: false, help: 'first broadcast retry delay in seconds (default 10)' },
  { name: 'retry-max', flag: false, help: 'longest broadcast retry delay in seconds (default 600)' },
  { name: 'request-timeout', flag: false, help: 'seconds before an explorer request is given up (default 60)' },
  { name: 'log-level', flag: false, help: 'debug | info | warn | error (default info)' },
];

export type ParseResult = { readonly kind: 'ok'; readonly config: Config } | { readonly kind: 'invalid'; readonly problems: string[] };

/** Parses `--name value`, `--name=value` and flags; environment variables fill what flags leave out. */
export function parseServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ParseResult {
  const problems: string[] = [];
  const values = readArgv(argv, problems);
  fillFromEnv(values, env);
  const read = new OptionReader(values, problems);
  const network = networkOf(read);
  const config: Config = {
    network,
    dataDir: resolve(read.one('data-dir') ?? './data'),
    ...listenOf(read),
    explorers: explorersOf(read, network),
    ...torOf(read, network),
    ...numbersOf(read),
    logLevel: logLevelOf(read),
    testing: testKnobs(env),
  };
  if (config.retryMaxSeconds < config.retryMinSeconds) problems.push('--retry-max must not be below --retry-min');
  return problems.length ? { kind: 'invalid', problems } : { kind: 'ok', config };
}

/** Every value given on the command line, by option name; unknown and repeated options are problems. */
function readArgv(argv: readonly string[], problems: string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const spec = m ? SERVE_OPTIONS.find((o) => o.name === m[1]) : undefined;
    if (!m || !spec) {
      problems.push(`unknown argument: ${arg}`);
      continue;
    }
    // A flag takes no value unless given as --flag=value; any other option takes the next argument.
    const value = m[2] ?? (spec.flag ? 'true' : argv[++i]);
    if (value === undefined) {
      problems.push(`--${spec.name} needs a value`);
      continue;
    }
    const list = values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeat) problems.push(`--${spec.name} given more than once`);
    values.set(spec.name, [...list, value]);
  }
  return values;
}

/** RELAYSTORE_<NAME> for each option the command line left out (comma-separated for a repeatable one). */
function fillFromEnv(values: Map<string, string[]>, env: NodeJS.ProcessEnv): void {
  for (const spec of SERVE_OPTIONS) {
    if (values.has(spec.name)) continue;
    const fromEnv = env[`RELAYSTORE_${spec.name.toUpperCase().replace(/-/g, '_')}`];
    if (fromEnv === undefined || fromEnv === '') continue;
    values.set(spec.name, spec.repeat ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : [fromEnv]);
  }
}

/** Reads values by kind; a malformed one is a problem, and its default stands in so that every problem is found in one pass. */
class OptionReader {
  constructor(
    private readonly values: ReadonlyMap<string, string[]>,
    readonly problems: string[],
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  all(name: string): string[] | undefined {
    return this.values.get(name);
  }

  one(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.one(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (/^\d+$/.test(raw.trim()) && Number.isSafeInteger(n) && n >= min && n <= max) return n;
    this.problems.push(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }

  fraction(name: string, fallback: number): number {
    const raw = this.one(name);
    if (raw === undefined) return fallback;
    const f = Number(raw);
    if (/^\s*(0|1|0?\.\d+|1\.0*)\s*$/.test(raw) && f >= 0 && f <= 1) return f;
    this.problems.push(`--${name} must be a number from 0 to 1 (got "${raw}")`);
    return fallback;
  }

  flag(name: string): boolean {
    const raw = this.one(name);
    if (raw === undefined || /^(0|false|no)$/i.test(raw)) return false;
    if (/^(1|true|yes)$/i.test(raw)) return true;
    this.problems.push(`--${name} takes true or false (got "${raw}")`);
    return false;
  }

  /** One of `choices`, else a problem naming them. */
  choice<T extends string>(name: string, fallback: T, choices: readonly T[], say: string): T {
    const value = (this.one(name) ?? fallback) as T;
    if (!choices.includes(value)) this.problems.push(`--${name} must be ${say} (got "${value}")`);
    return value;
  }
}

function networkOf(read: OptionReader): Network {
  return read.choice('network', 'bitcoin', NETWORKS, `one of ${NETWORKS.join(', ')}`);
}

/** --listen HOST:PORT (IPv6 in brackets), loopback unless --allow-public-listen insists. */
function listenOf(read: OptionReader): Pick<Config, 'listenHost' | 'listenPort' | 'allowPublicListen'> {
  const listen = read.one('listen') ?? '127.0.0.1:8080';
  const lm = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(listen);
  const valid = lm !== null && Number(lm[2]) <= 65535;
  if (!valid) read.problems.push(`--listen must be HOST:PORT (got "${listen}")`);
  const listenHost = valid ? lm[1]!.replace(/^\[|\]$/g, '') : '127.0.0.1';
  const allowPublicListen = read.flag('allow-public-listen');
  if (!allowPublicListen && !isLoopbackHost(listenHost)) {
    read.problems.push(`--listen ${listenHost} is not a loopback address; the API is meant to be reached through the onion service (add --allow-public-listen to insist)`);
  }
  return { listenHost, listenPort: valid ? Number(lm[2]) : 8080, allowPublicListen };
}

/** --tor and the options that only one Tor mode uses. */
function torOf(read: OptionReader, network: Network): Pick<Config, 'tor' | 'socks' | 'onion' | 'torConfig'> {
  const { problems } = read;
  const tor = read.choice<TorMode>('tor', 'managed', ['managed', 'external', 'off'], 'managed, external or off');
  if (tor === 'off' && network !== 'regtest') problems.push('--tor off is allowed only with --network regtest: everything else leaves through Tor');
  const socks = read.one('socks') ?? DEFAULT_SOCKS;
  if (!socks.startsWith('socks5h://')) problems.push(`--socks must be a socks5h:// URL, so that Tor resolves names (got "${socks}")`);
  if (read.has('socks') && tor !== 'external') problems.push('--socks is used only with --tor external');
  const onion = read.one('onion') ?? null;
  if (onion !== null && !/^[a-z2-7]{56}\.onion$/.test(onion)) problems.push(`--onion must be a v3 onion address, 56 base32 characters + ".onion" (got "${onion}")`);
  if (onion !== null && tor !== 'external') problems.push('--onion is used only with --tor external (managed tor knows its own)');
  const torConfig = read.one('tor-config') ?? null;
  if (torConfig !== null && tor !== 'managed') problems.push('--tor-config is used only with --tor managed');
  return { tor, socks, onion, torConfig: torConfig === null ? null : resolve(torConfig) };
}

/** --explorer, repeatable, else the network's onion defaults; each an http(s) URL. */
function explorersOf(read: OptionReader, network: Network): string[] {
  const explorers = read.all('explorer') ?? [...(NETWORKS.includes(network) ? DEFAULT_EXPLORERS[network] : [])];
  for (const e of explorers) {
    const protocol = URL.canParse(e) ? new URL(e).protocol : null;
    if (protocol === null) read.problems.push(`--explorer ${e} is not a URL`);
    else if (protocol !== 'http:' && protocol !== 'https:') read.problems.push(`--explorer ${e} must be http(s)`);
  }
  if (explorers.length === 0) read.problems.push(`--network ${network} has no default explorer: give at least one --explorer`);
  return explorers;
}

/** The numeric options: default, least and greatest value of each. */
function numbersOf(read: OptionReader) {
  return {
    pollIntervalSeconds: read.int('poll-interval', 30, 1, 3600),
    confirmations: read.int('confirmations', 6, 1, 1000),
    feeTargetBlocks: read.int('fee-target', 6, 1, 1008),
    feeBumpBlocks: read.int('fee-bump-blocks', 3, 1, 1000),
    maxPending: read.int('max-pending', 1_000_000, 1),
    maxStoreBytes: read.int('max-store-bytes', 8 * 1024 ** 3, 1),
    admissionThreshold: read.fraction('admission-threshold', 0.5),
    admissionMaxBits: read.int('admission-max-bits', 24, 0, 40),
    maxConnections: read.int('max-connections', 512, 1, 1_000_000),
    maxSealedBytes: read.int('max-sealed-bytes', 102_400, 1024, 4_000_000),
    maxWindowSeconds: read.int('max-window', 86_400, 0, 30 * 86_400),
    horizonYears: read.int('horizon-years', 5, 1, 100),
    retentionDays: read.int('retention-days', 30, 0, 3650),
    retryMinSeconds: read.int('retry-min', 10, 1, 86_400),
    retryMaxSeconds: read.int('retry-max', 600, 1, 7 * 86_400),
    requestTimeoutSeconds: read.int('request-timeout', 60, 1, 600),
  } satisfies Partial<Config>;
}

function logLevelOf(read: OptionReader): Config['logLevel'] {
  return read.choice('log-level', 'info', ['debug', 'info', 'warn', 'error'], 'debug, info, warn or error');
}
