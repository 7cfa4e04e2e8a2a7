// `relaystore serve --tor managed`: runs our own tor child (SOCKS port + the API's onion service),
// owned through its control port so it never outlives us, and restarted if it dies on its own.
// tor picks both ports itself as it binds them (`auto`), so no other process can take one between
// our choice and tor's bind; we read them back from tor, and again after every restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TorControl, parseBootstrap, type TorEvent } from './control.js';
import { findTorBinary, reapOrphanTors, stopChild, type TorLog } from './processes.js';

/** Where, under the data directory, the onion service keeps its keys (`relaystore backup` copies them). */
export const ONION_DIR = path.join('tor', 'onion');

/** Where, under the data directory, tor writes the control port it bound (ControlPortWriteToFile). */
export const CONTROL_PORT_FILE = path.join('tor', 'control-port');

export interface ManagedTorOptions {
  dataDir: string;
  apiHost: string;
  apiPort: number;
  /** torrc text appended to ours (`--tor-config`), e.g. a private test network's join lines. */
  extraTorrc?: string;
  log: TorLog;
  torBinary?: string;
  readyTimeoutMs?: number;
}

/** Streams (connections to the API) one rendezvous circuit may open at once; torrc.example says the same. */
export const MAX_STREAMS_PER_CIRCUIT = 32;

/** Keeps the last lines tor printed, to explain a failed start without writing a log file. */
function tailOf(child: ChildProcess, keep = 20): () => string[] {
  const lines: string[] = [];
  let partial = '';
  const onChunk = (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      if (lines.length > keep) lines.shift();
    }
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  return () => [...lines];
}

/** The files one managed tor runs with, all under DATA_DIR/tor. */
interface TorFiles {
  readonly torrc: string;
  readonly emptyDefaults: string;
  readonly dataDirectory: string;
  readonly controlPortFile: string;
}

export class ManagedTor {
  private child: ChildProcess | null = null;
  /** The ports the running tor bound; other ones after a restart. */
  private ports = { socks: 0, control: 0 };
  private control: TorControl | null = null;
  private stopping = false;
  private restarts = 0;
  private lastProgress = -1;
  private uploaded = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private onionAddress = '';

  private constructor(
    private readonly binary: string,
    private readonly log: TorLog,
    private readonly files: TorFiles,
  ) {}

  /** The SOCKS port of the tor running now: read it at each use, a restarted tor has another. */
  get socksUrl(): string {
    return `socks5h://127.0.0.1:${this.ports.socks}`;
  }

  get socksPort(): number {
    return this.ports.socks;
  }

  get controlPort(): number {
    return this.ports.control;
  }

  /** `<56 base32>.onion`; the key lives in the data directory, so it survives restarts. */
  get onion(): string {
    return this.onionAddress;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(opts: ManagedTorOptions): Promise<ManagedTor> {
    const binary = await findTorBinary(opts.torBinary);
    const torDir = path.join(opts.dataDir, 'tor');
    const files: TorFiles = {
      torrc: path.join(torDir, 'torrc'),
      emptyDefaults: path.join(torDir, 'torrc-defaults'),
      dataDirectory: path.join(torDir, 'data'),
      controlPortFile: path.join(opts.dataDir, CONTROL_PORT_FILE),
    };
    const onionDir = path.join(opts.dataDir, ONION_DIR);
    // tor refuses a DataDirectory or HiddenServiceDir that others can read.
    for (const dir of [torDir, files.dataDirectory, onionDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
    // A tor from a crashed earlier run of this data directory would hold its lock.
    await reapOrphanTors((p) => path.resolve(p) === path.resolve(files.torrc), opts.log);
    await writeFile(files.torrc, torrcText({ dataDirectory: files.dataDirectory, onionDir, controlPortFile: files.controlPortFile, opts }), { mode: 0o600 });
    // An empty defaults file, so that a system-wide torrc-defaults cannot change our tor.
    await writeFile(files.emptyDefaults, '', { mode: 0o600 });
    const tor = new ManagedTor(binary, opts.log, files);
    opts.log('tor_starting', { binary });
    await tor.firstStart(path.join(onionDir, 'hostname'), opts.readyTimeoutMs ?? 180_000);
    return tor;
  }

  /** Runs tor until it has bootstrapped and published the onion service; stops it if it cannot. */
  private async firstStart(hostnameFile: string, readyTimeoutMs: number): Promise<void> {
    const started = Date.now();
    try {
      const tail = await this.spawnAndOwn();
      // The address is created by tor on its first start and kept in the onion dir from then on.
      this.onionAddress = await readHostname(hostnameFile, 10_000);
      this.log('tor_onion', { onion: this.onionAddress });
      await this.waitReady(readyTimeoutMs, tail);
      this.log('tor_ready', { onion: this.onionAddress, elapsedMs: Date.now() - started });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops tor; it is not restarted afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child) await stopChild(child);
    this.control?.close();
    this.control = null;
  }

  private async spawnAndOwn(): Promise<() => string[]> {
    // The file an earlier tor wrote would name its port, not the next one's.
    await rm(this.files.controlPortFile, { force: true });
    const child = spawn(this.binary, ['-f', this.files.torrc, '--defaults-torrc', this.files.emptyDefaults], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const tail = tailOf(child);
    child.once('error', (err) => this.log('tor_error', { message: err.message }));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    const isAlive = () => child.exitCode === null && child.signalCode === null;
    const { control, port } = await this.connect(isAlive).catch((err: Error) => {
      throw new Error(`${err.message}; tor said: ${tail().slice(-5).join(' | ')}`);
    });
    this.control = control;
    control.onEvent((ev) => this.onEvent(ev));
    await control.takeOwnership();
    await control.setEvents(['HS_DESC', 'STATUS_CLIENT', 'CIRC', 'STREAM']);
    this.ports = { socks: socksPortOf(await control.getInfo('net/listeners/socks')), control: port };
    this.log('tor_ports', { socksPort: this.ports.socks, controlPort: this.ports.control });
    return tail;
  }

  /** Reaches the control port tor chose, once it has written it down (within 30 s). */
  private async connect(isAlive: () => boolean): Promise<{ control: TorControl; port: number }> {
    const deadline = Date.now() + 30_000;
    const port = await readControlPortFile(this.files.controlPortFile, { deadline, isAlive });
    const cookie = path.join(this.files.dataDirectory, 'control_auth_cookie');
    return { control: await TorControl.connectWhenReady(port, cookie, { timeoutMs: Math.max(0, deadline - Date.now()), isAlive }), port };
  }

  private onEvent(ev: TorEvent): void {
    if (ev.type === 'STATUS_CLIENT') {
      const b = parseBootstrap(ev.body);
      if (b) this.noteProgress(b);
    } else if (ev.type === 'HS_DESC') {
      const [action, address] = ev.body.split(' ');
      if (action === 'UPLOADED' && this.onion && `${address}.onion` === this.onion) {
        if (!this.uploaded) this.log('tor_onion_published', { onion: this.onion });
        this.uploaded = true;
      }
    }
  }

  private noteProgress(b: { progress: number; tag: string; summary: string }): void {
    if (b.progress === this.lastProgress) return;
    this.lastProgress = b.progress;
    this.log('tor_bootstrap', { progress: b.progress, phase: b.tag, summary: b.summary });
  }

  private async waitReady(timeoutMs: number, tail: () => string[]): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const control = this.control;
      if (!control || control.isClosed) throw new Error(`tor exited while starting; tor said: ${tail().slice(-5).join(' | ')}`);
      if (this.lastProgress < 100) {
        const b = parseBootstrap(await control.getInfo('status/bootstrap-phase'));
        if (b) this.noteProgress(b);
      }
      if (this.lastProgress >= 100 && this.uploaded) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      this.lastProgress < 100
        ? `tor did not bootstrap within ${timeoutMs} ms (at ${this.lastProgress}%)`
        : `tor did not publish the onion service descriptor within ${timeoutMs} ms`,
    );
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.control?.close();
    this.control = null;
    if (this.stopping) return;
    this.restarts += 1;
    // Back off so that a tor that dies at once does not spin the CPU.
    const delayMs = Math.min(30_000, 1_000 * 2 ** Math.min(this.restarts - 1, 5));
    this.log('tor_died', { code, signal, restartInMs: delayMs, restarts: this.restarts });
    this.lastProgress = -1;
    this.uploaded = false;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.spawnAndOwn()
        .then(() => {
          this.log('tor_restarted', { restarts: this.restarts });
          // A tor that stays up for a minute earns a fresh backoff.
          const current = this.child;
          setTimeout(() => {
            if (this.child === current && !this.stopping) this.restarts = 0;
          }, 60_000).unref();
        })
        .catch((err: Error) => {
          this.log('tor_restart_failed', { message: err.message });
          // Its exit handler schedules the next attempt; a live but unreachable tor is killed so it does.
          if (this.child && this.child.exitCode === null) void stopChild(this.child);
        });
    }, delayMs);
  }
}

/** Seconds a used circuit may take new streams, and after which it is closed once idle (tor's default: 600). */
export const MAX_CIRCUIT_DIRTINESS_S = 30;

/** Our torrc: ports on loopback only, chosen by tor, owned by this process, the API's onion service, then --tor-config. */
export function torrcText(t: { dataDirectory: string; onionDir: string; controlPortFile: string; opts: ManagedTorOptions }): string {
  return [
    '# Written by relaystore at every start; edits are lost (use --tor-config).',
    `DataDirectory ${t.dataDirectory}`,
    'RunAsDaemon 0',
    `__OwningControllerProcess ${process.pid}`,
    // Tor's default, stated because RelayStore's unlinkability depends on it (SPEC §5).
    'SocksPort 127.0.0.1:auto IsolateSOCKSAuth',
    // Every request has credentials of its own, so no circuit ever takes a second one: a used
    // circuit is closed once idle for this long instead of 10 minutes. Thousands left open by a
    // burst slowed the next bursts (200 due: 12, 46, 69 s one after another; with 30 s: 11, 17, 21 s).
    `MaxCircuitDirtiness ${MAX_CIRCUIT_DIRTINESS_S}`,
    'ControlPort 127.0.0.1:auto',
    `ControlPortWriteToFile ${t.controlPortFile}`,
    'CookieAuthentication 1',
    `HiddenServiceDir ${t.onionDir}`,
    `HiddenServicePort 80 ${t.opts.apiHost}:${t.opts.apiPort}`,
    'HiddenServicePoWDefensesEnabled 1',
    // One client's circuit may hold a browser's few parallel requests, never a flood of them:
    // past this, tor closes that circuit (SPEC §8; the server caps the total, --max-connections).
    `HiddenServiceMaxStreams ${MAX_STREAMS_PER_CIRCUIT}`,
    'HiddenServiceMaxStreamsCloseCircuit 1',
    'Log notice stdout',
    '',
  ].join('\n') + (t.opts.extraTorrc ? `\n# --tor-config\n${t.opts.extraTorrc}\n` : '');
}

async function readHostname(file: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const text = (await readFile(file, 'utf8')).trim();
      if (/^[a-z2-7]{56}\.onion$/.test(text)) return text;
    } catch {
      // tor writes it shortly after start
    }
    if (Date.now() > deadline) throw new Error(`tor did not write its onion hostname (${file})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The control port from tor's ControlPortWriteToFile (`PORT=127.0.0.1:<port>`), once tor has
 * written it; it does so after the listener is open.
 */
export async function readControlPortFile(file: string, until: { deadline: number; isAlive?: () => boolean }): Promise<number> {
  for (;;) {
    if (until.isAlive && !until.isAlive()) throw new Error('tor exited before its control port opened');
    const text = await readFile(file, 'utf8').catch(() => '');
    const port = /^PORT=127\.0\.0\.1:(\d+)$/m.exec(text);
    if (port) return Number(port[1]);
    if (Date.now() > until.deadline) throw new Error(`tor did not write its control port (${file})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Our SOCKS port in `GETINFO net/listeners/socks` (quoted addresses, space-separated). */
export function socksPortOf(listeners: string): number {
  const ours = listeners.split(' ').map((l) => /^"?127\.0\.0\.1:(\d+)"?$/.exec(l)).find((m) => m);
  if (!ours) throw new Error(`tor has no SOCKS listener on 127.0.0.1 (${listeners || 'none'})`);
  return Number(ours[1]);
}
