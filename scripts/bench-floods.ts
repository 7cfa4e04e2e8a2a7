// Issue 12's flood figures against `relaystore serve` as a child process: log bytes written for N aborted
// uploads, and seconds to answer again after a slow-socket flood. `node dist/scripts/bench-floods.js`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { TestExplorer } from '../test/support/explorer.js';
import { serveArgs } from '../test/support/serve-args.js';

const BIN = fileURLToPath(new URL('../../bin/relaystore.js', import.meta.url));
/**
 * --aborts N (default 2000), --sockets N (default 6000), --nofile N (the service's open-files limit,
 * default 4096, so that a modest flood reaches it as ~20,000 sockets reach the default one).
 */
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const progress = (text: string) => process.stderr.write(`bench-floods: ${text}\n`);

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly bytes: { stdout: number; stderr: number };
  readonly lines: Array<Record<string, unknown>>;
}

/** Starts the service under `ulimit -n nofile`, counting every byte it writes. */
async function startChild(dataDir: string, explorer: string, nofile: number, extra: string[] = []): Promise<Child> {
  const args = [...serveArgs({ dataDir, explorers: [explorer], tor: { mode: 'off' } }), ...extra];
  const proc = spawn('sh', ['-c', `ulimit -n ${nofile} && exec "$@"`, 'sh', process.execPath, BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const bytes = { stdout: 0, stderr: 0 };
  const lines: Array<Record<string, unknown>> = [];
  proc.stdout!.on('data', (d: Buffer) => (bytes.stdout += d.length));
  proc.stderr!.on('data', (d: Buffer) => (bytes.stderr += d.length));
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(parseLine(l)));
  const deadline = Date.now() + 60_000;
  while (!lines.some((l) => l.event === 'ready')) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('the service did not start');
    await sleep(50);
  }
  const url = new URL(String(lines.find((l) => l.event === 'listening')!.url));
  return { proc, port: Number(url.port), bytes, lines };
}

function parseLine(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { event: 'non_json', text };
  }
}

async function stopChild(child: Child): Promise<void> {
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGTERM');
  await exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One upload that stops a tenth of the way through its body and goes away. */
function abortedUpload(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"locktime":1,"sealed":"');
      socket.write('ab'.repeat(5000), () => setTimeout(() => socket.destroy(), 20));
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

async function benchAborts(work: string, explorer: TestExplorer, n: number): Promise<void> {
  const child = await startChild(join(work, 'aborts'), explorer.url, 4096);
  const before = { ...child.bytes };
  for (let done = 0; done < n; done += 50) await Promise.all(Array.from({ length: Math.min(50, n - done) }, () => abortedUpload(child.port)));
  await stopChild(child);
  const stdout = child.bytes.stdout - before.stdout;
  const stderr = child.bytes.stderr - before.stderr;
  progress(`${n} aborted uploads: ${stdout} bytes on stdout, ${stderr} bytes on stderr (${stdout + stderr} in all, from start of the aborts to the end of a clean stop)`);
  const errors = child.lines.filter((l) => l.level === 'error').length;
  const summaries = child.lines.filter((l) => l.event === 'summary').map((l) => JSON.stringify(l));
  progress(`${errors} error lines; summaries: ${summaries.join(' ') || 'none'} (the rest are the scheduler's debug ticks and start/stop lines)`);
}

/** A slowloris socket: half a request line, then one header byte every two seconds. */
function slowSocket(port: number, flood: Flood): void {
  const socket = net.connect(port, '127.0.0.1');
  flood.open.add(socket);
  const timer = setInterval(() => socket.writable && socket.write('a'), 2000);
  socket.on('connect', () => {
    flood.settled++;
    socket.write('POST /v1/transactions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  });
  socket.on('error', () => {});
  socket.resume();
  socket.on('close', () => {
    clearInterval(timer);
    if (!socket.connecting && flood.open.delete(socket)) flood.closedByServer++;
    else if (flood.open.delete(socket)) flood.settled++;
  });
}

interface Flood {
  readonly open: Set<net.Socket>;
  /** Sockets that connected or failed to. */
  settled: number;
  closedByServer: number;
}

/** Seconds until GET /v1/info answers 200, trying every 200 ms with a 2 s deadline each. */
async function secondsUntilAnswered(port: number, limitMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    const ok = await fetch(`http://127.0.0.1:${port}/v1/info`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return (performance.now() - started) / 1000;
    await sleep(200);
  }
  return null;
}

async function benchFlood(work: string, explorer: TestExplorer, sockets: number, nofile: number): Promise<void> {
  const child = await startChild(join(work, 'flood'), explorer.url, nofile);
  const flood: Flood = { open: new Set(), settled: 0, closedByServer: 0 };
  const started = performance.now();
  for (let i = 0; i < sockets; i++) {
    slowSocket(child.port, flood);
    if (i % 200 === 199) await sleep(20);
  }
  // Every socket has connected (or failed to): the flood is in place.
  await until(() => flood.settled >= sockets, 120_000);
  const inPlace = (performance.now() - started) / 1000;
  const height = explorer.mine(1) && explorer.tip().height;
  const minedAt = performance.now();
  const judgedAt = until(() => child.lines.some((l) => l.event === 'tick' && Number(l.height) >= height), 180_000).then((ok) => (ok ? (performance.now() - minedAt) / 1000 : null));
  const [answeredAfter, judgedAfter] = await Promise.all([secondsUntilAnswered(child.port, 180_000), judgedAt]);
  const emfile = child.lines.filter((l) => JSON.stringify(l).includes('EMFILE')).length;
  progress(`${sockets} slow sockets (service open-files limit ${nofile}), in place after ${inPlace.toFixed(1)} s: ` +
    `answered again ${answeredAfter === null ? 'never (180 s)' : `${(inPlace + answeredAfter).toFixed(1)} s after the flood began`}; ` +
    `a block mined then judged after ${judgedAfter?.toFixed(1) ?? 'never'} s; ` +
    `${flood.closedByServer} slow sockets closed by the server, ${flood.open.size} still open; ${emfile} log lines mention EMFILE`);
  for (const s of flood.open) s.destroy();
  await stopChild(child);
  const summary = child.lines.filter((l) => l.event === 'summary' || l.event === 'connections');
  if (summary.length) progress(`its own account: ${summary.map((l) => JSON.stringify(l)).join(' ')}`);
}

async function until(probe: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!probe()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'relaystore-floods-'));
  const explorer = await TestExplorer.start({ startHeight: 200 });
  try {
    await benchAborts(work, explorer, arg('aborts', 2000));
    await benchFlood(work, explorer, arg('sockets', 6000), arg('nofile', 4096));
  } finally {
    await explorer.close();
    await rm(work, { recursive: true, force: true });
  }
}

void main();
