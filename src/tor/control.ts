// A minimal Tor control-port client (control-spec.txt) over node:net: cookie authentication,
// commands with multi-line replies, and asynchronous 650 events, with no dependency beyond Node.
import net from 'node:net';
import { readFile } from 'node:fs/promises';

/** One line of a reply; `data` holds the dot-decoded block that follows a "250+" line. */
export interface ReplyLine {
  code: number;
  text: string;
  data?: string;
}

export interface Reply {
  code: number;
  lines: ReplyLine[];
}

/** An asynchronous event: `type` is its first word (HS_DESC, STATUS_CLIENT, CIRC, STREAM …). */
export interface TorEvent {
  type: string;
  /** The rest of the first line, after the type. */
  body: string;
  lines: ReplyLine[];
}

export type EventListener = (event: TorEvent) => void;

export class TorControlError extends Error {
  constructor(readonly reply: Reply, command: string) {
    // Only the command's verb: arguments can hold the cookie (AUTHENTICATE).
    super(`tor control ${command.split(' ')[0]} failed: ${reply.code} ${reply.lines.map((l) => l.text).join(' / ')}`);
  }
}

interface Pending {
  command: string;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

export class TorControl {
  private buffer = '';
  private current: ReplyLine[] = [];
  private dataLine: ReplyLine | null = null;
  private dataParts: string[] = [];
  private readonly pending: Pending[] = [];
  private readonly listeners = new Set<EventListener>();
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.shutdown(err));
    socket.on('close', () => this.shutdown());
  }

  /** Connects to 127.0.0.1:port and authenticates with the cookie file (COOKIE method). */
  static async connect(port: number, cookiePath: string, opts: { timeoutMs?: number } = {}): Promise<TorControl> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`tor control port ${port}: connect timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const control = new TorControl(socket);
    try {
      const cookie = await readFile(cookiePath);
      await control.command(`AUTHENTICATE ${cookie.toString('hex')}`);
    } catch (err) {
      control.close();
      throw err;
    }
    return control;
  }

  /** Connects, retrying while tor is still starting (no cookie or no listener yet). */
  static async connectWhenReady(port: number, cookiePath: string, opts: { timeoutMs?: number; isAlive?: () => boolean } = {}): Promise<TorControl> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (opts.isAlive && !opts.isAlive()) throw new Error('tor exited before its control port opened');
      try {
        return await TorControl.connect(port, cookiePath, { timeoutMs: 2_000 });
      } catch (err) {
        lastError = err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`tor control port ${port} did not accept us: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one command line; resolves with the reply when it is 2xx, rejects otherwise. */
  command(line: string): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('tor control connection is closed'));
    if (/[\r\n]/.test(line)) return Promise.reject(new Error('tor control command must be a single line'));
    return new Promise<Reply>((resolve, reject) => {
      this.pending.push({
        command: line,
        resolve: (reply) => (reply.code >= 200 && reply.code < 300 ? resolve(reply) : reject(new TorControlError(reply, line))),
        reject,
      });
      this.socket.write(line + '\r\n');
    });
  }

  /** GETINFO for one key; handles both "250-key=value" and "250+key=" data blocks. */
  async getInfo(key: string): Promise<string> {
    const reply = await this.command(`GETINFO ${key}`);
    for (const line of reply.lines) {
      if (line.text.startsWith(`${key}=`)) return line.data ?? line.text.slice(key.length + 1);
    }
    throw new Error(`tor GETINFO ${key}: no value in reply`);
  }

  /** Tor exits when this connection closes, so a crashed owner leaves no tor behind. */
  async takeOwnership(): Promise<void> {
    await this.command('TAKEOWNERSHIP');
    // Once owned, the __OwningControllerProcess poll is no longer needed (control-spec 3.23).
    await this.command('RESETCONF __OwningControllerProcess');
  }

  async setEvents(events: string[]): Promise<void> {
    await this.command(`SETEVENTS ${events.join(' ')}`);
  }

  /** Returns a function that unsubscribes. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the connection; an owned tor then exits. */
  close(): void {
    this.socket.destroy();
    this.shutdown();
  }

  private shutdown(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const reason = err ?? new Error('tor control connection closed');
    for (const p of this.pending.splice(0)) p.reject(reason);
    this.listeners.clear();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      let line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (this.dataLine) {
      if (line === '.') {
        this.dataLine.data = this.dataParts.join('\n');
        this.dataLine = null;
        this.dataParts = [];
      } else {
        this.dataParts.push(line.startsWith('.') ? line.slice(1) : line);
      }
      return;
    }
    const m = /^(\d{3})([ +-])(.*)$/.exec(line);
    if (!m) return; // not protocol: ignore rather than desynchronise
    const code = Number(m[1]);
    const sep = m[2];
    const entry: ReplyLine = { code, text: m[3] ?? '' };
    this.current.push(entry);
    if (sep === '+') {
      this.dataLine = entry;
      return;
    }
    if (sep === '-') return;
    const lines = this.current;
    this.current = [];
    if (code === 650) {
      const first = lines[0]?.text ?? '';
      const space = first.indexOf(' ');
      const event: TorEvent = { type: space < 0 ? first : first.slice(0, space), body: space < 0 ? '' : first.slice(space + 1), lines };
      for (const l of [...this.listeners]) {
        try {
          l(event);
        } catch {
          // A faulty listener must not break the protocol stream for the others.
        }
      }
      return;
    }
    const p = this.pending.shift();
    p?.resolve({ code, lines });
  }
}

/** Parses `KEY=value KEY="quoted value"` pairs from a reply or event line. */
export function parseKeywords(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const raw = m[2] ?? '';
    out[m[1]!] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return out;
}

/** Bootstrap progress from `GETINFO status/bootstrap-phase` or a STATUS_CLIENT BOOTSTRAP event. */
export function parseBootstrap(text: string): { progress: number; tag: string; summary: string } | null {
  if (!/BOOTSTRAP/.test(text)) return null;
  const kw = parseKeywords(text);
  const progress = Number(kw.PROGRESS);
  if (!Number.isFinite(progress)) return null;
  return { progress, tag: kw.TAG ?? '', summary: kw.SUMMARY ?? '' };
}
