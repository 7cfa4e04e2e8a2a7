// A private Tor network on loopback for tests (4 authority relays, auth0 the 127.0.0.0/8-only exit),
// plus client tors with onion services; see /work/shared/notes/tor-testnet.md for why each knob is set.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TorControl, parseBootstrap } from '../../src/tor/control.js';
import { findTorBinary, isAlive, reapOrphanTors, stopChild } from '../../src/tor/processes.js';

export interface TorClient {
  name: string;
  socksUrl: string;
  socksPort: number;
  controlPort: number;
  cookiePath: string;
  /** `.onion` addresses, in the order of `opts.onions`. */
  onions: string[];
  control: TorControl;
  pid: number;
  /** Milliseconds from this tor's spawn to bootstrap 100 % and every descriptor uploaded. */
  readyMs: number;
}

interface Authority {
  nick: string;
  dir: string;
  orPort: number;
  dirPort: number;
  controlPort: number;
  v3ident: string;
  fingerprint: string;
}

const AUTHORITIES = 4;
const PASSPHRASE = 'relaystore-testnet';

/**
 * Hands out loopback ports below the kernel's ephemeral range, from a random base, skipping busy ones.
 * Tor binds a port seconds after it was found free (keys come first); inside the ephemeral range any
 * outgoing connection or listen(0) on the machine may take it meanwhile, and the tor exits.
 */
class PortAllocator {
  private readonly low = 10_000;
  private readonly high = ephemeralLow() - 1;
  private next = this.low + Math.floor((Math.random() * (this.high - this.low)) / 100) * 100;

  async take(): Promise<number> {
    for (;;) {
      const port = this.next++;
      if (this.next > this.high) this.next = this.low;
      if (await portIsFree(port)) return port;
    }
  }
}

/** The first port the kernel hands out for outgoing connections and listen(0). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A tor that exited because a port it was given had been taken meanwhile (by another run's tor). */
class PortTaken extends Error {}

/**
 * The error for a tor that exited on its own, with the last lines it wrote: a port it could not bind
 * fails its configuration before the notice log is open, so that reason is only on its stdout.
 */
async function exitError(name: string, dataDir: string, why: string, stdout: string): Promise<Error> {
  const notice = await readFile(path.join(dataDir, 'notice.log'), 'utf8').catch(() => '');
  const said = `${stdout}\n${notice}`.trim();
  const message = `${name}: ${why}\n${said.split('\n').slice(-8).join('\n')}`;
  return /Could not bind to .*Address already in use/.test(said) ? new PortTaken(message) : new Error(message);
}

/** Runs `start` again (on fresh ports) when a port was taken before its tor could bind it; 3 tries. */
async function onFreshPorts<T>(what: string, log: (line: string) => void, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 3) throw err;
      log(`tornet: ${what}: a port was taken before tor bound it, starting again on others (${err.message.split('\n')[0]})`);
    }
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function run(cmd: string, args: string[], opts: { cwd?: string; stdin?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} exited ${code}: ${err.trim() || out.trim()}`))));
    child.stdin.end(opts.stdin ?? '');
  });
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TorNetwork {
  private readonly children: Array<{ name: string; child: ChildProcess }> = [];
  /** Tors that exited on their own, with their data directories. */
  private readonly exited: Array<{ name: string; dataDir: string; how: string; stdout: () => string }> = [];
  private readonly controls: TorControl[] = [];
  private readonly ports = new PortAllocator();
  private authorities: Authority[] = [];
  private stopped = false;
  /** Milliseconds from the first authority's spawn to a consensus with every relay flagged. */
  consensusMs = 0;
  /** Milliseconds spent on keys and fingerprints before any tor starts. */
  keysMs = 0;

  private constructor(
    readonly dir: string,
    private readonly tor: string,
    private readonly log: (line: string) => void,
    private readonly ownsDir: boolean,
  ) {}

  /** PIDs of every tor this network started (authorities and clients). */
  get pids(): number[] {
    return this.children.map((c) => c.child.pid).filter((p): p is number => p !== undefined);
  }

  /** `signal` aborts a start in progress: whatever was started is stopped before it rejects. */
  static async start(opts: { dir?: string; log?: (line: string) => void; readyTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<TorNetwork> {
    const tor = await findTorBinary();
    await TorNetwork.cleanUpCrashedRuns(opts.log ?? (() => {}));
    const log = opts.log ?? (() => {});
    // A directory we were given keeps its keys: only a fresh one can be started again.
    const boot = async () => {
      const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'relaystore-tornet-')));
      if (opts.dir) await mkdir(dir, { recursive: true });
      const network = new TorNetwork(dir, tor, log, opts.dir === undefined);
      try {
        await network.boot(opts.readyTimeoutMs ?? 60_000, opts.signal);
      } catch (err) {
        await network.stop();
        throw opts.dir && err instanceof PortTaken ? new Error(err.message) : err;
      }
      return network;
    };
    return onFreshPorts('network', log, boot);
  }

  /**
   * A test runner killed mid-run leaves its temp dir, and sometimes a tor hung at exit (see
   * reapOrphanTors); both are removed here, but only for runs whose owning process is gone.
   */
  private static async cleanUpCrashedRuns(log: (line: string) => void): Promise<void> {
    const prefix = path.join(os.tmpdir(), 'relaystore-tornet-');
    const killed = await reapOrphanTors((p) => p.startsWith(prefix));
    if (killed.length) log(`tornet: killed ${killed.length} orphaned tor(s) of crashed runs: ${killed.join(', ')}`);
    for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
      if (!name.startsWith('relaystore-tornet-')) continue;
      const dir = path.join(os.tmpdir(), name);
      const torrc = await readFile(path.join(dir, 'auth0', 'torrc'), 'utf8').catch(() => null);
      const owner = torrc && /^__OwningControllerProcess (\d+)$/m.exec(torrc);
      if (!owner || isAlive(Number(owner[1]))) continue; // still starting, or still in use
      await rm(dir, { recursive: true, force: true });
      log(`tornet: removed ${dir} left by a crashed run`);
    }
  }

  /** The lines any tor needs to join this network (for `relaystore serve --tor-config`). */
  torrcForClient(): string {
    return [
      ...this.joinLines(),
      // Without full descriptors a 127.0.0.0/8-only exit looks like it exits nowhere.
      'UseMicrodescriptors 0',
      '',
    ].join('\n');
  }

  private joinLines(): string[] {
    return [
      'TestingTorNetwork 1',
      ...this.authorities.map((a) => `DirAuthority ${a.nick} orport=${a.orPort} no-v2 v3ident=${a.v3ident} 127.0.0.1:${a.dirPort} ${a.fingerprint}`),
    ];
  }

  private async boot(readyTimeoutMs: number, signal?: AbortSignal): Promise<void> {
    const t0 = Date.now();
    const auths: Authority[] = [];
    for (let i = 0; i < AUTHORITIES; i++) {
      const nick = `auth${i}`;
      const dir = path.join(this.dir, nick);
      auths.push({ nick, dir, orPort: await this.ports.take(), dirPort: await this.ports.take(), controlPort: await this.ports.take(), v3ident: '', fingerprint: '' });
    }
    const empty = path.join(this.dir, 'empty-torrc');
    await writeFile(empty, '');
    // RSA key generation dominates start-up, so the four run in parallel.
    await Promise.all(
      auths.map(async (a) => {
        const keys = path.join(a.dir, 'keys');
        await mkdir(keys, { recursive: true, mode: 0o700 });
        await chmod(a.dir, 0o700);
        await run(
          'tor-gencert',
          ['--create-identity-key', '--passphrase-fd', '0', '-i', 'authority_identity_key', '-s', 'authority_signing_key', '-c', 'authority_certificate', '-m', '12', '-a', `127.0.0.1:${a.dirPort}`],
          { cwd: keys, stdin: `${PASSPHRASE}\n` },
        );
        const cert = await readFile(path.join(keys, 'authority_certificate'), 'utf8');
        const v3 = /^fingerprint ([0-9A-F]{40})$/m.exec(cert);
        if (!v3) throw new Error(`${a.nick}: no fingerprint in authority_certificate`);
        a.v3ident = v3[1]!;
        const out = await run(this.tor, ['--list-fingerprint', '--quiet', '--defaults-torrc', empty, '-f', empty, '--DataDirectory', a.dir, '--ORPort', `127.0.0.1:${a.orPort}`, '--Nickname', a.nick, '--Address', '127.0.0.1']);
        const fp = new RegExp(`^${a.nick} ([0-9A-F ]{49})$`, 'm').exec(out);
        if (!fp) throw new Error(`${a.nick}: tor --list-fingerprint printed no fingerprint`);
        a.fingerprint = fp[1]!.replace(/ /g, '');
      }),
    );
    signal?.throwIfAborted();
    this.authorities = auths;
    this.keysMs = Date.now() - t0;
    this.log(`tornet: keys and fingerprints in ${this.keysMs} ms`);

    const t1 = Date.now();
    await Promise.all(auths.map((a, i) => this.startAuthority(a, i === 0, empty)));
    await this.waitForConsensus(readyTimeoutMs, signal);
    this.consensusMs = Date.now() - t1;
    this.log(`tornet: every authority's consensus lists all ${AUTHORITIES} relays ${this.consensusMs} ms after the first tor started`);
  }

  private commonTorrc(dataDir: string, controlPort: number): string[] {
    return [
      `DataDirectory ${dataDir}`,
      'RunAsDaemon 0',
      `__OwningControllerProcess ${process.pid}`,
      `ControlPort 127.0.0.1:${controlPort}`,
      'CookieAuthentication 1',
      `Log notice file ${path.join(dataDir, 'notice.log')}`,
      'SafeLogging 0',
    ];
  }

  private async startAuthority(a: Authority, exit: boolean, empty: string): Promise<void> {
    const torrc = [
      ...this.commonTorrc(a.dir, a.controlPort),
      `Nickname ${a.nick}`,
      ...this.joinLines(),
      `ORPort 127.0.0.1:${a.orPort}`,
      `DirPort 127.0.0.1:${a.dirPort}`,
      'Address 127.0.0.1',
      'AssumeReachable 1',
      'SocksPort 0',
      'PathsNeededToBuildCircuits 0.67',
      'TestingDirAuthVoteExit *',
      'TestingDirAuthVoteHSDir *',
      'TestingDirAuthVoteGuard *',
      'TestingMinExitFlagThreshold 0',
      'V3AuthNIntervalsValid 2',
      'ServerDNSDetectHijacking 0',
      'ServerDNSTestAddresses',
      'ServerDNSResolvConfFile /dev/null',
      'GeoIPFile /dev/null',
      'GeoIPv6File /dev/null',
      'AuthoritativeDirectory 1',
      'V3AuthoritativeDirectory 1',
      'TestingV3AuthInitialVotingInterval 5',
      'TestingV3AuthInitialVoteDelay 2',
      'TestingV3AuthInitialDistDelay 2',
      'V3AuthVotingInterval 10',
      'V3AuthVoteDelay 2',
      'V3AuthDistDelay 2',
      ...(exit
        ? ['ExitRelay 1', 'ExitPolicyRejectPrivate 0', 'ExitPolicy accept 127.0.0.0/8:*', 'ExitPolicy reject *:*', 'RefuseUnknownExits 0']
        : ['ExitRelay 0', 'ExitPolicy reject *:*']),
      '',
    ].join('\n');
    await this.spawnTor(a.nick, a.dir, a.controlPort, torrc, empty);
  }

  /** Spawns a tor, connects to its control port and takes ownership, so it dies with us. */
  private async spawnTor(name: string, dataDir: string, controlPort: number, torrc: string, empty: string): Promise<{ child: ChildProcess; control: TorControl }> {
    const torrcPath = path.join(dataDir, 'torrc');
    await writeFile(torrcPath, torrc);
    const child = spawn(this.tor, ['-f', torrcPath, '--defaults-torrc', empty], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.children.push({ name, child });
    // Read to the end (a full pipe would stall tor); only the last few kilobytes are kept.
    let said = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (said = (said + text).slice(-4096)));
    const stdout = () => said;
    // 'close' comes after its output has all been read.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.once('close', (code, signal) => {
      if (this.stopped) return;
      this.log(`tornet: ${name} (pid ${child.pid}) exited unexpectedly: code ${code} signal ${signal}`);
      this.exited.push({ name, dataDir, how: `exited unexpectedly: code ${code} signal ${signal}`, stdout });
    });
    const control = await TorControl.connectWhenReady(controlPort, path.join(dataDir, 'control_auth_cookie'), {
      timeoutMs: 20_000,
      isAlive: () => child.exitCode === null && child.signalCode === null,
    }).catch(async (err: Error) => {
      // One that exited holds nothing: a start again on other ports leaves it out of `pids`.
      if (child.exitCode !== null || child.signalCode !== null) {
        this.children.splice(this.children.findIndex((c) => c.child === child), 1);
        await closed;
      }
      throw await exitError(name, dataDir, err.message, said);
    });
    this.controls.push(control);
    await control.takeOwnership();
    return { child, control };
  }

  /**
   * Waits until every authority serves a consensus that flags all relays as needed: a client asks
   * any one of them, and one still without a consensus delays its bootstrap by seconds.
   */
  private async waitForConsensus(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no consensus yet';
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      // A tor can bind its control port and then exit on another: no consensus will come.
      const gone = this.exited[0];
      if (gone) throw await exitError(gone.name, gone.dataDir, gone.how, gone.stdout());
      const problems = await Promise.all(this.authorities.map((a) => this.consensusProblem(a)));
      const bad = problems.filter((p): p is string => p !== null);
      if (bad.length === 0) return;
      last = bad.join('; ');
      await sleep(250);
    }
    throw new Error(`tor network not ready within ${timeoutMs} ms: ${last}`);
  }

  private async consensusProblem(a: Authority): Promise<string | null> {
    try {
      const res = await httpGet(`http://127.0.0.1:${a.dirPort}/tor/status-vote/current/consensus`, 2_000);
      if (res.status !== 200) return `${a.nick} answered ${res.status}`;
      const flags = new Map<string, string[]>();
      let nick: string | null = null;
      for (const line of res.body.split('\n')) {
        if (line.startsWith('r ')) nick = line.split(' ')[1] ?? null;
        else if (line.startsWith('s ') && nick) flags.set(nick, line.slice(2).split(' '));
      }
      const missing = this.authorities.filter((x) => {
        const f = flags.get(x.nick) ?? [];
        const need = ['Running', 'Valid', 'Guard', 'HSDir', ...(x.nick === 'auth0' ? ['Exit'] : [])];
        return !need.every((n) => f.includes(n));
      });
      if (missing.length === 0) return null;
      return `${a.nick}'s consensus lacks flags for ${missing.map((m) => `${m.nick}[${(flags.get(m.nick) ?? []).join(',')}]`).join(' ')}`;
    } catch (err) {
      return `${a.nick}: ${(err as Error).message}`;
    }
  }

  /** Starts a client tor joined to this network: a SocksPort, and onion services for `onions`. */
  startClient(opts: { name: string; onions?: Array<{ targetPort: number }>; readyTimeoutMs?: number }): Promise<TorClient> {
    return onFreshPorts(opts.name, this.log, () => this.startClientOnce(opts));
  }

  private async startClientOnce(opts: { name: string; onions?: Array<{ targetPort: number }>; readyTimeoutMs?: number }): Promise<TorClient> {
    const started = Date.now();
    const dataDir = path.join(this.dir, `client-${opts.name}`);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    const socksPort = await this.ports.take();
    const controlPort = await this.ports.take();
    const onionDirs = (opts.onions ?? []).map((_, i) => path.join(dataDir, `onion${i}`));
    for (const d of onionDirs) {
      await mkdir(d, { recursive: true, mode: 0o700 });
      await chmod(d, 0o700);
    }
    const torrc = [
      ...this.commonTorrc(dataDir, controlPort),
      this.torrcForClient(),
      `SocksPort 127.0.0.1:${socksPort} IsolateSOCKSAuth`,
      ...(opts.onions ?? []).flatMap((o, i) => [`HiddenServiceDir ${onionDirs[i]}`, `HiddenServicePort 80 127.0.0.1:${o.targetPort}`, 'HiddenServicePoWDefensesEnabled 1']),
      '',
    ].join('\n');
    const empty = path.join(this.dir, 'empty-torrc');
    const { child, control } = await this.spawnTor(opts.name, dataDir, controlPort, torrc, empty);
    // Subscribe before bootstrap can finish, so no UPLOADED event is missed.
    const uploaded = new Set<string>();
    control.onEvent((ev) => {
      if (ev.type === 'HS_DESC') {
        const [action, address] = ev.body.split(' ');
        if (action === 'UPLOADED' && address) uploaded.add(`${address}.onion`);
      }
    });
    await control.setEvents(['HS_DESC', 'STATUS_CLIENT']);
    const onions: string[] = [];
    for (const d of onionDirs) onions.push((await readFile(path.join(d, 'hostname'), 'utf8')).trim());

    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    let progress = -1;
    while (Date.now() < deadline) {
      const b = parseBootstrap(await control.getInfo('status/bootstrap-phase'));
      if (b && b.progress !== progress) {
        progress = b.progress;
        this.log(`tornet: ${opts.name} bootstrap ${b.progress}% ${b.tag} at ${Date.now() - started} ms`);
      }
      if (progress >= 100 && onions.every((o) => uploaded.has(o))) break;
      await sleep(200);
    }
    if (progress < 100 || !onions.every((o) => uploaded.has(o))) {
      throw new Error(`client ${opts.name} not ready: bootstrap ${progress}%, descriptors uploaded for ${[...uploaded].join(',') || 'none'}`);
    }
    const readyMs = Date.now() - started;
    this.log(`tornet: client ${opts.name} ready (bootstrap 100%, ${onions.length} onion(s) uploaded) in ${readyMs} ms`);
    return {
      name: opts.name,
      socksUrl: `socks5h://127.0.0.1:${socksPort}`,
      socksPort,
      controlPort,
      cookiePath: path.join(dataDir, 'control_auth_cookie'),
      onions,
      control,
      pid: child.pid!,
      readyMs,
    };
  }

  /** Stops every tor by PID (SIGTERM, SIGKILL after 5 s) and removes the directory. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.children.map((c) => stopChild(c.child, 5_000)));
    for (const c of this.controls) c.close();
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}
