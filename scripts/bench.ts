// `npm run bench` / `scripts/bench [--quick]`: RelayStore against the ceilings of what it stands on,
// measured side by side in one run so that the ratios hold on a noisy machine. Prints one table.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm, stat, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import nacl from 'tweetnacl';
import { Transaction } from 'bitcoinjs-lib';
import { Sqlite } from '../src/store/sqlite.js';
import { Store, DB_FILE } from '../src/store/store.js';
import { keySql } from '../src/store/at-rest.js';
import { blobsAtRest, filesHolding } from '../test/support/data-dir.js';
import { until } from '../test/support/wait.js';
import { State } from '../src/domain/record.js';
import { KeyRing } from '../src/keys/keyring.js';
import { receiptMessage, signReceipt } from '../src/keys/receipts.js';
import { textSigner } from '../src/keys/sodium-signing.js';
import { Scheduler } from '../src/engine/scheduler.js';
import { WorkerOpener } from '../src/engine/opener.js';
import { Intake } from '../src/engine/intake.js';
import { createApp } from '../src/http/app.js';
import type { Broadcaster } from '../src/engine/broadcaster.js';
import type { Tip } from '../src/domain/locktime.js';
import { seal, openSealed } from '../src/crypto/sealed-box.js';
import { pad } from '../src/crypto/padding.js';
import { encodeBundle, MAX_RUNGS } from '../src/domain/bundle.js';
import { openTransaction } from '../src/engine/open-transaction.js';
import { makeTx } from '../test/support/txs.js';
import { silentLogger, jsonLogger } from '../src/util/log.js';
import { systemClock } from '../src/util/clock.js';
import { serveArgs } from '../test/support/serve-args.js';
import { benchTorBurst } from './bench-tor-burst.js';

const quick = process.argv.includes('--quick');
/**
 * `--pinned`: this process (the load generator) on CPU 0, each server (every thread of it) on CPU 1,
 * so that neither takes the other's core and the ratio compares the servers' CPU cost per request.
 */
const pinned = process.argv.includes('--pinned');
/** `--only ingest,burst` runs some sections (due-scan fills the store that growth needs). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',') ?? null;
/** tor-burst starts a private Tor network (a minute or more): full runs and `--only=tor-burst` only, never `--quick`'s CI check. */
const wants = (section: string) => (only === null ? !(quick && section === 'tor-burst') : only.includes(section));
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SCALE = {
  ingestSeconds: quick ? 2 : 8,
  /** Echo, floor and RelayStore alternate this many times; the ratio is the median of the rounds. */
  ingestRounds: quick ? 1 : 3,
  /**
   * Load before the measured seconds: RelayStore's hot code is larger than the echo's, and its JIT
   * compiles kept a core's V8 threads busy past a 1 s warm-up (~40 µs per request after 1 s, ~25 after 10).
   */
  warmUpSeconds: quick ? 1 : 5,
  storeRecords: quick ? 50_000 : 1_000_000,
  burst: quick ? 2_000 : 10_000,
  rawOpens: quick ? 300 : 2_000,
  ladderOpens: quick ? 200 : 2_000,
  wipes: quick ? 5 : 20,
};
const SERVER = fileURLToPath(new URL('./bench-server.js', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/relaystore.js', import.meta.url));

interface Row {
  section: string;
  figure: string;
  value: string;
  target: string;
  pass: boolean | null;
}
const rows: Row[] = [];
const row = (section: string, figure: string, value: string, target = '', pass: boolean | null = null) => rows.push({ section, figure, value, target, pass });
const progress = (text: string) => process.stderr.write(`bench: ${text}\n`);
const ms = (n: number) => `${n.toFixed(2)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function startServer(mode: 'relay' | 'echo' | 'floor', dataDir = ''): Promise<{ port: number; child: ChildProcess }> {
  const command = pinned ? ['taskset', '-c', '1', process.execPath] : [process.execPath];
  const child = spawn(command[0]!, [...command.slice(1), SERVER, mode, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`${mode} server exited (${code})`)));
  });
  return { port, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Distinct, realistic bodies: a 280-byte sealed blob makes a ~600-byte JSON body. */
function bodies(n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ locktime: 850_000 + (i % 1000), sealed: randomBytes(280).toString('hex') }));
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  bodyBytes: number;
  /** ids of the 201 answers (RelayStore only). */
  ids: string[];
  /** CPU the server spent per answered request, in µs: its main thread, its busiest other thread, all the rest. */
  cpu: { main: number; busiest: number; rest: number; total: number };
  /** Share of one core the server used while measured: below ~0.8 the load generator, not the server, set the pace. */
  busy: number;
}

/** CPU time (ns, from the scheduler) of every thread of process `pid`. */
async function threadTimes(pid: number): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
    times.set(Number(tid), Number(text.split(' ')[0]));
  }
  return times;
}

function cpuPerRequest(pid: number, before: Map<number, number>, after: Map<number, number>, requests: number): LoadResult['cpu'] {
  const spent = [...after].map(([tid, ns]) => ({ tid, us: (ns - (before.get(tid) ?? 0)) / 1000 / Math.max(1, requests) }));
  const main = spent.find((t) => t.tid === pid)?.us ?? 0;
  const others = spent.filter((t) => t.tid !== pid).map((t) => t.us).sort((a, b) => b - a);
  const busiest = others[0] ?? 0;
  const rest = others.slice(1).reduce((a, b) => a + b, 0);
  return { main, busiest, rest, total: main + busiest + rest };
}

async function load(child: ChildProcess, port: number, path: string, seconds: number): Promise<LoadResult> {
  const pool = bodies(Math.ceil(seconds * 40_000));
  const ids: string[] = [];
  let i = 0;
  const run = (duration: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}${path}`,
      connections: 32,
      duration,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (req) => ({ ...req, body: pool[i++ % pool.length]! }),
          onResponse: (status, body) => {
            if (status === 201) ids.push((JSON.parse(body) as { id: string }).id);
          },
        },
      ],
    });
  // Warmed up first, so that the CPU counted is the steady state's, not the JIT compiler's.
  await run(SCALE.warmUpSeconds);
  const before = await threadTimes(child.pid!);
  const result = await run(seconds);
  const after = await threadTimes(child.pid!);
  const cpu = cpuPerRequest(child.pid!, before, after, result.requests.total);
  const busy = (cpu.total * result.requests.total) / 1e6 / seconds;
  return { busy, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, ok: result['2xx'], non2xx: result.non2xx, bodyBytes: pool[0]!.length, ids, cpu };
}

/** How many of `ids` are rows on disk, read after the server has stopped. */
async function countStored(dataDir: string, ids: string[]): Promise<number> {
  const db = await Sqlite.open(join(dataDir, DB_FILE), 'readonly');
  let found = 0;
  for (let k = 0; k < ids.length; k += 500) {
    const chunk = ids.slice(k, k + 500);
    const r = await db.get<{ n: number }>(`SELECT count(*) AS n FROM records WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk.map((id) => Buffer.from(id, 'hex')));
    found += r?.n ?? 0;
  }
  await db.close();
  return found;
}

async function echo(seconds: number): Promise<LoadResult> {
  const { port, child } = await startServer('echo');
  const r = await load(child, port, '/', seconds);
  await stopServer(child);
  return r;
}

/** The floor server (bench-server.ts): the least a durable, signed submission costs on this stack. */
async function floor(dataDir: string, seconds: number): Promise<LoadResult> {
  const { port, child } = await startServer('floor', dataDir);
  const r = await load(child, port, '/', seconds);
  await stopServer(child);
  return r;
}

async function ingest(dataDir: string, seconds: number): Promise<LoadResult & { stored: number }> {
  const { port, child } = await startServer('relay', dataDir);
  const r = await load(child, port, '/v1/transactions', seconds);
  await stopServer(child);
  return { ...r, stored: await countStored(dataDir, r.ids) };
}

const cpuText = (c: LoadResult['cpu']) => `${c.total.toFixed(0)} µs (main ${c.main.toFixed(0)}, busiest other thread ${c.busiest.toFixed(0)}, rest ${c.rest.toFixed(0)})`;

function cpuPerCall(call: (i: number) => unknown, n: number): number {
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) call(i);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / n;
}

/**
 * CPU µs of one receipt signature (SPEC §3) on this thread, node:crypto's (OpenSSL) and libsodium's
 * (the signers'), alternating in rounds, the median of each: the part of a submission no change here can cut.
 */
function signatureCpu(): { nodeCrypto: number; libsodium: number } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signText = textSigner(privateKey);
  const id = '00'.repeat(16), sha = '11'.repeat(32);
  const nodeCrypto = (i: number) => signReceipt(privateKey, id, 850_000 + i, sha);
  const libsodium = (i: number) => signText(receiptMessage(id, 850_000 + i, sha));
  for (const warmUp of [nodeCrypto, libsodium]) cpuPerCall(warmUp, 200);
  const rounds = Array.from({ length: 5 }, () => [cpuPerCall(nodeCrypto, 1000), cpuPerCall(libsodium, 1000)] as const);
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { nodeCrypto: median(rounds.map((r) => r[0])), libsodium: median(rounds.map((r) => r[1])) };
}

/** Echo, floor and RelayStore alternate, so that all see the same machine; the round with the median ratio is reported. */
async function benchIngest(work: string): Promise<void> {
  const how = pinned ? 'load generator on CPU 0, each server on CPU 1' : 'unpinned';
  progress(`ingest: bare Koa echo, floor and durable POST /v1/transactions, 32 connections, ${SCALE.ingestRounds} × ${SCALE.ingestSeconds} s each after ${SCALE.warmUpSeconds} s of warm-up, ${how}`);
  const rounds: IngestRound[] = [];
  for (let k = 0; k < SCALE.ingestRounds; k++) {
    const e = await echo(SCALE.ingestSeconds);
    const f = await floor(join(work, `floor-${k}`), SCALE.ingestSeconds);
    const r = await ingest(join(work, `ingest-${k}`), SCALE.ingestSeconds);
    rounds.push({ e, f, r, ratio: r.rps / e.rps });
    progress(`  round ${k + 1}: echo ${e.rps.toFixed(0)} req/s (${cpuText(e.cpu)}), floor ${f.rps.toFixed(0)} req/s (${cpuText(f.cpu)}), RelayStore ${r.rps.toFixed(0)} req/s (${cpuText(r.cpu)}), ratio ${(r.rps / e.rps).toFixed(2)}`);
  }
  ingestRows(rounds);
}

interface IngestRound {
  readonly e: LoadResult;
  readonly f: LoadResult;
  readonly r: LoadResult & { stored: number };
  readonly ratio: number;
}

function ingestRows(rounds: readonly IngestRound[]): void {
  const { e, f, r, ratio } = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  const section = pinned ? 'Ingest pinned' : 'Ingest';
  row(section, `bare Koa JSON echo (${e.bodyBytes}-byte bodies)`, `${e.rps.toFixed(0)} req/s, p50 ${e.p50} ms, p99 ${e.p99} ms`);
  row(section, 'floor: node:http, SHA-256, Ed25519, group-committed INSERT, synchronous=FULL', `${f.rps.toFixed(0)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms`);
  row(section, 'RelayStore POST, synchronous=FULL', `${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`);
  row(section, 'server CPU per request, echo', cpuText(e.cpu));
  row(section, 'server CPU per request, floor', cpuText(f.cpu));
  row(section, 'server CPU per request, RelayStore', cpuText(r.cpu));
  // Pinned, the ratio says what it should only if each server kept its core busy; on a machine
  // whose cores others use, the load generator gets too little of CPU 0 and the servers idle.
  const saturated = !pinned || Math.min(e.busy, f.busy, r.busy) >= 0.8;
  const busyText = pinned ? `; servers kept their core ${[e, f, r].map((x) => `${(x.busy * 100).toFixed(0)} %`).join(' / ')} busy${saturated ? '' : ': not judged, the machine is busy'}` : '';
  const list = (pick: (x: IngestRound) => number) => rounds.map((x) => pick(x).toFixed(2)).join(', ');
  row(section, `ratio RelayStore / echo (median of ${rounds.length})`, `${ratio.toFixed(2)} (rounds: ${list((x) => x.ratio)})${busyText}`, '>= 0.50', saturated ? ratio >= 0.5 : null);
  row(section, 'ratio floor / echo, the same rounds', `${(f.rps / e.rps).toFixed(2)} (rounds: ${list((x) => x.f.rps / x.e.rps)})`);
  row(section, 'ratio RelayStore / floor, the same rounds', `${(r.rps / f.rps).toFixed(2)} (rounds: ${list((x) => x.r.rps / x.f.rps)})`);
  signatureRows(section, e);
  const stored = rounds.reduce((n, x) => n + x.r.stored, 0);
  const answered = rounds.reduce((n, x) => n + x.r.ids.length, 0);
  const refused = rounds.reduce((n, x) => n + x.r.non2xx, 0);
  row(section, '201 answers whose record is on disk', `${stored} of ${answered} (${refused} non-2xx)`, 'all', stored === answered && answered > 0 && refused === 0);
}

/** Even if everything else a submission does cost nothing, its signature is on the server's CPU too. */
function signatureRows(section: string, e: LoadResult): void {
  const signature = signatureCpu();
  row(section, 'Ed25519 receipt signature CPU, libsodium (the signers) / node:crypto', `${signature.libsodium.toFixed(0)} µs / ${signature.nodeCrypto.toFixed(0)} µs`);
  row(section, 'ratio if all but the signature were free: echo / (echo + signature)', (e.cpu.total / (e.cpu.total + signature.libsodium)).toFixed(2));
}

/** One POST or DELETE to the relay server, answered as JSON. */
async function call(port: number, method: string, path: string, body?: string, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, ...(body ? { body } : {}) });
  return { status: res.status, json: await res.json() };
}

/** Submits `n` blobs and keeps what cancelling them takes. */
async function submitted(port: number, n: number): Promise<Array<{ id: string; token: string }>> {
  const out: Array<{ id: string; token: string }> = [];
  for (const body of bodies(n)) out.push((await call(port, 'POST', '/v1/transactions', body)).json);
  return out;
}

/** Seconds from each cancel's answer until the key to that blob's stored form is in no file of the data directory. */
async function timeUntilGone(work: string): Promise<number[]> {
  const dataDir = join(work, 'wipe');
  const server = await startServer('relay', dataDir);
  const gone: number[] = [];
  for (const sub of await submitted(server.port, SCALE.wipes)) {
    const key = (await blobsAtRest(dataDir, [sub.id])).get(sub.id)!.key;
    const t0 = performance.now();
    await call(server.port, 'DELETE', `/v1/transactions/${sub.id}`, undefined, sub.token);
    await until(async () => (await filesHolding(dataDir, [key])).length === 0, 'cancelled key gone', 30_000, 5);
    gone.push((performance.now() - t0) / 1000);
  }
  await stopServer(server.child);
  return gone;
}

/** Ingest on a fresh store, with 20 cancels a second coming meanwhile (each burst of wipes is followed by a checkpoint) or not. */
async function ingestWhileCancelling(dataDir: string, cancelsPerSecond: number): Promise<LoadResult> {
  const server = await startServer('relay', dataDir);
  const doomed = await submitted(server.port, SCALE.ingestSeconds * cancelsPerSecond);
  let cancelling = true;
  const cancels = (async () => {
    for (const sub of doomed) {
      if (!cancelling) break;
      await Promise.all([call(server.port, 'DELETE', `/v1/transactions/${sub.id}`, undefined, sub.token), new Promise((r) => setTimeout(r, 1000 / cancelsPerSecond))]);
    }
  })();
  const r = await load(server.child, server.port, '/v1/transactions', SCALE.ingestSeconds);
  cancelling = false;
  await cancels;
  await stopServer(server.child);
  return r;
}

/**
 * Issue 12.2: how soon a cancelled blob is unrecoverable (before: at the hourly checkpoint), and
 * what the checkpoints after wipes cost ingest: with and without cancels, alternating, same run.
 */
async function benchWipe(work: string): Promise<void> {
  progress(`wipe: ${SCALE.wipes} cancels timed until gone; ingest with and without 20 cancels/s, alternating (${SCALE.ingestSeconds} s each)`);
  const gone = await timeUntilGone(work);
  const runs = { alone: [] as LoadResult[], cancelling: [] as LoadResult[] };
  for (let round = 0; round < (quick ? 1 : 2); round++) {
    runs.alone.push(await ingestWhileCancelling(join(work, `alone-${round}`), 0));
    runs.cancelling.push(await ingestWhileCancelling(join(work, `cancelling-${round}`), 20));
  }
  const rps = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.rps, 0) / rs.length;
  const p99 = (rs: LoadResult[]) => Math.max(...rs.map((r) => r.p99));
  row('Wipe', 'cancel answered → its key in no file of the data directory', `median ${median(gone).toFixed(2)} s, max ${Math.max(...gone).toFixed(2)} s`, '<= 5 s', Math.max(...gone) <= 5);
  row('Wipe', 'RelayStore POST alone', `${rps(runs.alone).toFixed(0)} req/s, p99 ≤ ${p99(runs.alone)} ms`);
  row('Wipe', 'RelayStore POST while 20 cancels/s', `${rps(runs.cancelling).toFixed(0)} req/s, p99 ≤ ${p99(runs.cancelling)} ms`);
  row('Wipe', 'ratio with cancels / alone', (rps(runs.cancelling) / rps(runs.alone)).toFixed(2), '>= 0.80', rps(runs.cancelling) / rps(runs.alone) >= 0.8);
}

/** Fills the store with `n` pending records far in the future, straight through SQLite. */
async function fill(dataDir: string, n: number): Promise<number> {
  const store = await Store.open(dataDir, { maxPending: 100_000_000 });
  await store.close();
  const db = await Sqlite.open(join(dataDir, DB_FILE));
  await db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  const started = performance.now();
  const perStatement = 100;
  // Blobs as the store keeps them: random bytes under a key of their own (store/at-rest.ts).
  const sql = `INSERT INTO records (id, key_id, locktime, window, state, wake, sealed, token_hash, key_slot) VALUES ${Array(perStatement).fill('(?,?,?,?,?,?,?,?,?)').join(',')}`;
  for (let done = 0; done < n; ) {
    await db.exec('BEGIN');
    for (let k = 0; k < 100 && done < n; k++, done += perStatement) {
      const params: Array<Buffer | number> = [];
      const slot = (j: number) => done + j + 1;
      for (let j = 0; j < perStatement; j++) params.push(randomBytes(16), randomBytes(8), 900_000 + (j % 5000), 0, State.Pending, 900_000 + (j % 5000), randomBytes(560), randomBytes(32), slot(j));
      await db.run(sql, params);
      await db.run(keySql.put(perStatement), Array.from({ length: perStatement }, (_, j) => [slot(j), randomBytes(32)]).flat());
    }
    await db.exec('COMMIT');
  }
  await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.close();
  return (performance.now() - started) / 1000;
}

async function addDue(store: Store, count: number, locktime: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = randomBytes(16);
    await store.submit({ id, keyId: randomBytes(8), locktime, window: 0, sealed: randomBytes(560), tokenHash: randomBytes(32) });
  }
}

async function benchDueScan(work: string): Promise<string> {
  const dataDir = join(work, 'big');
  progress(`due-scan: filling the store with ${SCALE.storeRecords.toLocaleString()} pending records`);
  const fillSeconds = await fill(dataDir, SCALE.storeRecords);
  row('Due-scan', `fill ${SCALE.storeRecords.toLocaleString()} pending records`, `${fillSeconds.toFixed(1)} s`);
  const store = await Store.open(dataDir, { maxPending: 100_000_000 });
  // 10 due at height 100, 990 more at height 200; the million wait for 900000+.
  await addDue(store, 10, 100);
  await addDue(store, 990, 200);
  const scan = async (tip: Tip) => {
    const now = Math.floor(Date.now() / 1000);
    const times: number[] = [];
    let found = 0;
    for (let k = 0; k < 21; k++) {
      const t0 = performance.now();
      const due = await store.dueMature(tip, 1000);
      await store.dueByWake(State.Windowed, now, 256);
      await store.dueByWake(State.Broadcasting, now, 256);
      await store.dueByWake(State.Broadcast, now, 256);
      times.push(performance.now() - t0);
      found = due.length;
    }
    return { ms: median(times), found };
  };
  for (const [height, expect] of [[50, 0], [150, 10], [250, 1000]] as const) {
    const r = await scan({ height, hash: '00'.repeat(32), medianTime: 1_700_000_000 });
    row('Due-scan', `tick's queries, ${r.found} due of ${(SCALE.storeRecords + 1000).toLocaleString()}`, ms(r.ms), '<= 5 ms', r.ms <= 5 && r.found === expect);
  }
  await store.close();

  progress('due-scan: RSS of `relaystore serve` over that store');
  const child = spawn(process.execPath, [BIN, 'serve', ...serveArgs({ dataDir, explorers: ['http://127.0.0.1:9/api'], tor: { mode: 'off' }, maxPending: 100_000_000 })], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (l) => l.includes('"ready"') && resolve()));
  await new Promise((r) => setTimeout(r, 3000));
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  await stopServer(child);
  row('Due-scan', 'service RSS with the store loaded', `${rssMb.toFixed(0)} MB`, '<= 200 MB', rssMb <= 200);
  return dataDir;
}

class ZeroLatencyExplorer implements Broadcaster {
  count = 0;
  onCount: (() => void) | null = null;
  async broadcast(): Promise<{ kind: 'accepted'; verified: true }> {
    this.count++;
    this.onCount?.();
    return { kind: 'accepted', verified: true };
  }
}

async function benchBurst(work: string): Promise<void> {
  const dataDir = join(work, 'burst');
  const keys = await KeyRing.loadOrCreate(dataDir);
  const store = await Store.open(dataDir, { maxPending: 100_000_000 });
  progress(`maturity burst: sealing ${SCALE.burst.toLocaleString()} transactions due at one height`);
  const sealedBlobs: Buffer[] = [];
  for (let i = 0; i < SCALE.burst; i++) {
    const tx = new Transaction();
    tx.locktime = 100;
    tx.addInput(randomBytes(32), 0, 0xfffffffe);
    tx.addOutput(Buffer.from('0014' + randomBytes(20).toString('hex'), 'hex'), 10_000n);
    const sealed = Buffer.from(seal(keys.current.publicKey, pad(tx.toBuffer())));
    sealedBlobs.push(sealed);
    const id = createHash('sha256').update(sealed).digest().subarray(0, 16);
    void store.submit({ id, keyId: Buffer.from(keys.current.keyId, 'hex'), locktime: 100, window: 0, sealed, tokenHash: randomBytes(32) });
  }
  await store.submit({ id: randomBytes(16), keyId: randomBytes(8), locktime: 999_999, window: 0, sealed: randomBytes(560), tokenHash: randomBytes(32) });

  // The ceiling: raw tweetnacl opening in this process.
  const t0 = performance.now();
  for (let i = 0; i < SCALE.rawOpens; i++) openSealed(sealedBlobs[i % sealedBlobs.length]!, keys.current.publicKey, keys.current.secretKey);
  const rawRate = SCALE.rawOpens / ((performance.now() - t0) / 1000);

  let tip: Tip = { height: 99, hash: '00'.repeat(32), medianTime: 1_700_000_000 };
  const explorer = new ZeroLatencyExplorer();
  const opener = new WorkerOpener(keys.all());
  const scheduler = new Scheduler({
    store, opener, broadcaster: explorer, tracker: { status: async () => ({ kind: 'mempool' }) }, clock: systemClock, tip: () => tip, log: jsonLogger((l) => process.stderr.write(l + '\n'), 'warn'),
    confirmations: 6, checkIntervalSeconds: 3600, retentionSeconds: 86_400, retryMinSeconds: 10, retryMaxSeconds: 600,
  });
  const limits = { maxSealedBytes: 102_400, maxWindowSeconds: 86_400 };
  const calm = () => ({ bits: 0, storeFull: 0 });
  const intake = new Intake({ store, keys, clock: systemClock, tip: () => tip, admission: calm, limits: { ...limits, horizonYears: 5 }, retentionSeconds: 86_400 });
  const app = createApp({ intake, keys, network: 'regtest', tip: () => tip, admission: calm, onion: () => null, limits, fees: () => ({ targetBlocks: 6, bumpBlocks: 3, estimate: null }), log: silentLogger });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const infoLatencies = async (durationMs: number, until?: Promise<void>) => {
    const lat: number[] = [];
    const end = Date.now() + durationMs;
    let done = false;
    void until?.then(() => (done = true));
    while (until ? !done : Date.now() < end) {
      const s = performance.now();
      await new Promise<void>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/v1/info', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
      lat.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 5));
    }
    return lat;
  };
  const idle = await infoLatencies(quick ? 1000 : 3000);

  progress('maturity burst: the tip reaches the height; opening in the worker, broadcasting to a zero-latency explorer');
  const allSent = new Promise<void>((resolve) => (explorer.onCount = () => explorer.count >= SCALE.burst && resolve()));
  const started = performance.now();
  tip = { height: 100, hash: '11'.repeat(32), medianTime: 1_700_000_600 };
  const watchdog = setInterval(() => progress(`  ${explorer.count} handed to the explorer`), 2000);
  scheduler.start();
  const during = await infoLatencies(0, allSent);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(watchdog);
  const rate = SCALE.burst / seconds;
  await scheduler.idle();
  await scheduler.stop();
  await opener.close();
  server.close();
  agent.destroy();
  await store.close();
  row('Maturity burst', `raw tweetnacl box.open (this process)`, `${rawRate.toFixed(0)} opens/s`);
  row('Maturity burst', `${SCALE.burst.toLocaleString()} due → opened → handed to the explorer`, `${rate.toFixed(0)} records/s (${seconds.toFixed(1)} s)`);
  row('Maturity burst', 'opening rate / raw', (rate / rawRate).toFixed(2), '>= 0.90', rate / rawRate >= 0.9);
  row('Maturity burst', 'GET /v1/info idle', `p50 ${ms(percentile(idle, 50))}, p99 ${ms(percentile(idle, 99))}`);
  row('Maturity burst', `GET /v1/info during the burst (${during.length} requests)`, `p50 ${ms(percentile(during, 50))}, p99 ${ms(percentile(during, 99))}`, 'p99 <= 50 ms', percentile(during, 99) <= 50);
}

async function benchGrowth(work: string, bigDir: string): Promise<void> {
  const dbBytes = (await stat(join(bigDir, DB_FILE))).size + (await stat(join(bigDir, `${DB_FILE}-wal`)).catch(() => ({ size: 0 }))).size;
  const perRecord = dbBytes / (SCALE.storeRecords + 1000);
  row('Store growth', 'database bytes per pending record (560-byte sealed)', `${perRecord.toFixed(0)} B`);
  progress('store growth: ingest into an empty store and into the full one');
  const seconds = Math.max(3, Math.round(SCALE.ingestSeconds / 2));
  const empty = await ingest(join(work, 'empty'), seconds);
  const full = await ingest(bigDir, seconds);
  row('Store growth', 'ingest, empty store', `${empty.rps.toFixed(0)} req/s, p99 ${empty.p99} ms`);
  row('Store growth', `ingest, ${SCALE.storeRecords.toLocaleString()} already stored`, `${full.rps.toFixed(0)} req/s, p99 ${full.p99} ms`, '>= 0.5 × empty', full.rps >= 0.5 * empty.rps);
}

/** Sixteen RBF versions of one 1-in 2-out P2WPKH spend at rising fees, as a wallet would sign them. */
function sixteenRungs(): { bare: Uint8Array; bundle: Uint8Array; bundleTxBytes: number } {
  const coin = { txid: randomBytes(32).toString('hex'), vout: 0 };
  const versions = Array.from({ length: MAX_RUNGS }, (_, r) =>
    makeTx({ locktime: 850_000, segwit: true, inputs: [coin], outs: [{ script: '0014' + '11'.repeat(20), value: 90_000n - BigInt(r) * 1_000n }, { script: '0014' + '22'.repeat(20), value: 5_000n }] }),
  );
  const built = encodeBundle(versions.map((v, r) => ({ fee: 5_000n + BigInt(r) * 1_000n, txs: [v.bytes] })), 850_000);
  if (built.kind !== 'ok') throw new Error(`bench bundle is ${built.code}: ${built.detail}`);
  return { bare: pad(versions[0]!.bytes), bundle: pad(built.plaintext), bundleTxBytes: versions.reduce((n, v) => n + v.bytes.length, 0) };
}

/** The opener's pure function on this thread, bare and bundle interleaved so both see the same machine. */
async function benchOpening(): Promise<void> {
  const keys = nacl.box.keyPair();
  const { bare, bundle, bundleTxBytes } = sixteenRungs();
  const sealed = { bare: seal(keys.publicKey, bare), bundle: seal(keys.publicKey, bundle) };
  const time = (blob: Uint8Array, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if (openTransaction(blob, keys, 850_000).kind !== 'opened') throw new Error('bench blob did not open');
    return (performance.now() - t0) / n;
  };
  time(sealed.bare, 50);
  time(sealed.bundle, 50);
  const bareMs: number[] = [];
  const bundleMs: number[] = [];
  for (let round = 0; round < 10; round++) {
    bareMs.push(time(sealed.bare, SCALE.ladderOpens / 10));
    bundleMs.push(time(sealed.bundle, SCALE.ladderOpens / 10));
  }
  const [a, b] = [median(bareMs), median(bundleMs)];
  row('Opening', `bare transaction (${bare.length}-byte plaintext)`, `${(a * 1000).toFixed(0)} µs (${(1000 / a).toFixed(0)} opens/s)`);
  row('Opening', `16-rung bundle (${bundleTxBytes} bytes of txs, ${bundle.length}-byte plaintext)`, `${(b * 1000).toFixed(0)} µs (${(1000 / b).toFixed(0)} opens/s)`);
  row('Opening', 'ratio 16-rung bundle / bare transaction', (b / a).toFixed(2), '<= 4', b / a <= 4);
}

/**
 * `--n=N` (default 100, `--quick` 20), `--scale` adds N=50,100,200,400, `--levels=16,32,...` the plain
 * client's concurrencies (default 16,24,32: at 64 the private network stalled for 37–129 s in every
 * trial this morning, so higher levels only lengthen the run; `--quick` tries 32 alone).
 */
async function benchTorBurstSection(): Promise<void> {
  const n = Number(flag('n') ?? (quick ? 20 : 100));
  const levels = (flag('levels') ?? (quick ? '32' : '16,24,32')).split(',').map(Number);
  if (!Number.isInteger(n) || n < 1 || levels.some((l) => !Number.isInteger(l) || l < 1)) throw new Error('--n and --levels take positive integers');
  const scale = process.argv.includes('--scale') ? [50, 100, 200, 400] : [];
  // --quick waits less for RelayStore to see the block; the burst is timed from when it does.
  await benchTorBurst({ n, scale, levels, pollSeconds: quick ? 5 : 30, progress, row: (figure, value, target = '', pass = null) => row('Tor burst', figure, value, target, pass) });
}

function print(): void {
  const widths = [14, 56, 40, 16];
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  process.stdout.write(`\nRelayStore benchmark${quick ? ' (--quick: scaled down)' : ''}\n`);
  process.stdout.write(line(['section', 'figure', 'value', 'target']) + ' | result\n');
  process.stdout.write(widths.map((w) => '-'.repeat(w)).join('-|-') + '-|-------\n');
  for (const r of rows) process.stdout.write(line([r.section, r.figure, r.value, r.target]) + ` | ${r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL'}\n`);
}

async function main(): Promise<void> {
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const work = await mkdtemp(join(tmpdir(), 'relaystore-bench-'));
  try {
    if (wants('ingest')) await benchIngest(work);
    if (wants('wipe')) await benchWipe(work);
    const big = wants('due-scan') || wants('growth') ? await benchDueScan(work) : '';
    if (wants('burst')) await benchBurst(work);
    if (wants('opening')) await benchOpening();
    if (wants('growth')) await benchGrowth(work, big);
    if (wants('tor-burst')) await benchTorBurstSection();
  } finally {
    print();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
