// `relaystore serve --tor managed`: runs our own tor child (SOCKS port + the API's onion service),
// owned through its control port so it never outlives us, and restarted if it dies on its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TorControl, parseBootstrap, type TorEvent } from './control.js';
import { findTorBinary, freePort, reapOrphanTors, stopChild, type TorLog } from './processes.js';

/** Where, under the data directory, the onion service keeps its keys (`relaystore backup` copies them). */
export const ONION_DIR = path.join('tor', 'onion');

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

export class ManagedTor {
  readonly socksUrl: string;
  private child: ChildProcess | null = null;
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
    readonly socksPort: number,
    readonly controlPort: number,
    private readonly emptyDefaults: string,
  ) {
    this.socksUrl = `socks5h://127.0.0.1:${socksPort}`;
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
    const dataDirectory = path.join(torDir, 'data');
    const onionDir = path.join(opts.dataDir, ONION_DIR);
    // tor refuses a DataDirectory or HiddenServiceDir that others can read.
    for (const dir of [torDir, dataDirectory, onionDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
    const socksPort = await freePort();
    let controlPort = await freePort();
    while (controlPort === socksPort) controlPort = await freePort();
    const torrc = torrcText({ dataDirectory, onionDir, socksPort, controlPort, opts });
    const torrcPath = path.join(torDir, 'torrc');
    // A tor from a crashed earlier run of this data directory would hold its lock.
    await reapOrphanTors((p) => path.resolve(p) === path.resolve(torrcPath), opts.log);
    await writeFile(torrcPath, torrc, { mode: 0o600 });

    // The address is created by tor on its first start and kept in the onion dir from then on.
    // An empty defaults file, so that a system-wide torrc-defaults cannot change our tor.
    const emptyDefaults = path.join(torDir, 'torrc-defaults');
    await writeFile(emptyDefaults, '', { mode: 0o600 });
    const tor = new ManagedTor(binary, opts.log, socksPort, controlPort, emptyDefaults);
    const started = Date.now();
    opts.log('tor_starting', { binary, socksPort, controlPort });
    try {
      const tail = await tor.spawnAndOwn(torrcPath, dataDirectory);
      const hostname = await readHostname(path.join(onionDir, 'hostname'), 10_000);
      tor.onionAddress = hostname;
      opts.log('tor_onion', { onion: hostname });
      await tor.waitReady(opts.readyTimeoutMs ?? 180_000, tail);
      opts.log('tor_ready', { onion: hostname, elapsedMs: Date.now() - started });
    } catch (err) {
      await tor.stop();
      throw err;
    }
    return tor;
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

  private async spawnAndOwn(torrcPath: string, dataDirectory: string): Promise<() => string[]> {
    const child = spawn(this.binary, ['-f', torrcPath, '--defaults-torrc', this.emptyDefaults], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const tail = tailOf(child);
    child.once('error', (err) => this.log('tor_error', { message: err.message }));
    child.once('exit', (code, signal) => this.onExit(child, code, signal, torrcPath, dataDirectory));
    const control = await TorControl.connectWhenReady(this.controlPort, path.join(dataDirectory, 'control_auth_cookie'), {
      timeoutMs: 30_000,
      isAlive: () => child.exitCode === null && child.signalCode === null,
    }).catch((err: Error) => {
      throw new Error(`${err.message}; tor said: ${tail().slice(-5).join(' | ')}`);
    });
    this.control = control;
    control.onEvent((ev) => this.onEvent(ev));
    await control.takeOwnership();
    await control.setEvents(['HS_DESC', 'STATUS_CLIENT', 'CIRC', 'STREAM']);
    return tail;
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

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, torrcPath: string, dataDirectory: string): void {
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
      this.spawnAndOwn(torrcPath, dataDirectory)
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

/** Our torrc: ports on loopback only, owned by this process, the API's onion service, then --tor-config. */
export function torrcText(t: { dataDirectory: string; onionDir: string; socksPort: number; controlPort: number; opts: ManagedTorOptions }): string {
  return [
    '# Written by relaystore at every start; edits are lost (use --tor-config).',
    `DataDirectory ${t.dataDirectory}`,
    'RunAsDaemon 0',
    `__OwningControllerProcess ${process.pid}`,
    // Tor's default, stated because RelayStore's unlinkability depends on it (SPEC §5).
    `SocksPort 127.0.0.1:${t.socksPort} IsolateSOCKSAuth`,
    `ControlPort 127.0.0.1:${t.controlPort}`,
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
