// SPEC §8 measured for issue 12's closing note: what the byte count costs ingest, and the fill attack.
// `npm run build && node dist/scripts/bench-admission.js [--seconds=N]`; prints one table.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Sqlite } from '../src/store/sqlite.js';
import { Store, DB_FILE } from '../src/store/store.js';
import { State } from '../src/domain/record.js';
import { StampSearch, solveInSlices } from '../src/domain/stamp.js';

const SECONDS = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice('--seconds='.length) ?? 10);
const SERVER = fileURLToPath(new URL('./bench-server.js', import.meta.url));
const KB100 = 102_400;
/** bench-server's tip; 4.9 years of blocks beyond it. */
const FAR = 849_000 + Math.round(4.9 * 52_560);
const rows: Array<[string, string]> = [];
const progress = (text: string) => process.stderr.write(`bench-admission: ${text}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Records per second the store commits, 64 submissions at a time (as concurrent POSTs arrive). */
async function ingestRound(store: Store, n: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < n; done += 64) {
    await Promise.all(Array.from({ length: 64 }, () =>
      store.submit({ id: randomBytes(16), keyId: randomBytes(8), locktime: 900_000, window: 0, sealed: randomBytes(560), tokenHash: randomBytes(32) })));
  }
  return n / ((performance.now() - started) / 1000);
}

/** Group-committed inserts with the counting triggers and with them dropped, in interleaved rounds. */
async function benchTriggers(work: string): Promise<void> {
  progress('the byte count: store inserts with and without its triggers, 5 interleaved rounds of 2,048');
  const withDir = join(work, 'with');
  const withoutDir = join(work, 'without');
  await (await Store.open(withoutDir, { maxPending: 1e9 })).close();
  const db = await Sqlite.open(join(withoutDir, DB_FILE));
  await db.exec('DROP TRIGGER store_bytes_insert; DROP TRIGGER store_bytes_update; DROP TRIGGER store_bytes_delete;');
  await db.close();
  const stores = { with: await Store.open(withDir, { maxPending: 1e9 }), without: await Store.open(withoutDir, { maxPending: 1e9 }) };
  const rates = { with: [] as number[], without: [] as number[] };
  for (let round = 0; round < 5; round++) {
    rates.without.push(await ingestRound(stores.without, 2048));
    rates.with.push(await ingestRound(stores.with, 2048));
  }
  await stores.with.close();
  await stores.without.close();
  rows.push(['store inserts/s without the counting triggers (median of 5)', median(rates.without).toFixed(0)]);
  rows.push(['store inserts/s with them', median(rates.with).toFixed(0)]);
  rows.push(['ratio with / without', (median(rates.with) / median(rates.without)).toFixed(2)]);
}

async function startRelay(dataDir: string, maxStoreBytes: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [SERVER, 'relay', dataDir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_MAX_STORE_BYTES: String(maxStoreBytes) } });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`relay server exited (${code})`)));
  });
  return { port, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function postJson(agent: http.Agent, port: number, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/transactions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface AttackResult {
  stored: number;
  seconds: number;
  /** Hashes tried by all 16 searches together (they share the client's one thread). */
  hashes: number;
  askedBits: number;
}

/**
 * One client, 16 connections, for `seconds`: each sends a fresh 100 KB blob; a stamp_required answer is
 * paid (the bits it names) with the client library's own search, then the blob is sent again.
 */
async function attack(port: number, seconds: number): Promise<AttackResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const deadline = AbortSignal.timeout(seconds * 1000);
  const result: AttackResult = { stored: 0, seconds, hashes: 0, askedBits: 0 };
  const connection = async () => {
    while (!deadline.aborted) {
      const sealed = randomBytes(KB100).toString('hex');
      let answer = await postJson(agent, port, JSON.stringify({ locktime: FAR, sealed }));
      const asked = /(\d+) bits/.exec(answer.status === 400 ? answer.text : '');
      if (asked) {
        result.askedBits = Number(asked[1]);
        const id = createHash('sha256').update(Buffer.from(sealed, 'hex')).digest().subarray(0, 16).toString('hex');
        let tried = 0;
        const stamp = await solveInSlices(id, FAR, result.askedBits, { signal: deadline, onProgress: (p) => (tried = p.tried) }).catch(() => null);
        result.hashes += tried;
        if (stamp === null) return;
        answer = await postJson(agent, port, JSON.stringify({ locktime: FAR, sealed, stamp }));
      }
      if (answer.status === 201) result.stored += KB100;
    }
  };
  await Promise.all(Array.from({ length: 16 }, connection));
  agent.destroy();
  return result;
}

/** Fills a store to `bytes` of pending 100 KB blobs straight through SQLite (the triggers count them). */
async function prefill(dataDir: string, bytes: number): Promise<void> {
  await (await Store.open(dataDir, { maxPending: 1e9 })).close();
  const db = await Sqlite.open(join(dataDir, DB_FILE));
  await db.exec('BEGIN');
  for (let n = 0; n < Math.floor(bytes / KB100); n++) {
    await db.run('INSERT INTO records (id, key_id, locktime, window, state, wake, sealed, token_hash) VALUES (?, ?, ?, 0, ?, ?, ?, ?)', [
      randomBytes(16), randomBytes(8), FAR, State.Pending, FAR, randomBytes(KB100), randomBytes(32),
    ]);
  }
  await db.exec('COMMIT');
  await db.close();
}

/** One client, 16 connections, 100 KB blobs 4.9 years ahead, paying every stamp it is asked for: bytes stored per second at a calm store and at a 90 % full one. */
async function benchAttack(work: string): Promise<void> {
  const quota = 100 * 1024 * 1024;
  progress(`fill attack at a calm store (8 GiB quota): ${SECONDS} s`);
  const calm = await startRelay(join(work, 'calm'), 8 * 1024 ** 3);
  const c = await attack(calm.port, SECONDS);
  await stop(calm.child);
  rows.push(['calm store: bytes stored per second by one client', `${(c.stored / c.seconds / 1e6).toFixed(1)} MB/s (${c.stored / KB100} blobs in ${c.seconds} s)`]);

  progress(`fill attack at a 90 % full store (quota ${quota} bytes, prefilled): ${SECONDS} s`);
  await prefill(join(work, 'full'), 0.9 * quota);
  const full = await startRelay(join(work, 'full'), quota);
  const f = await attack(full.port, SECONDS);
  await stop(full.child);
  const rate = f.hashes / f.seconds;
  rows.push(['90 % full: bits asked of a 100 KB blob 4.9 years ahead', String(f.askedBits)]);
  rows.push(['90 % full: bytes stored in the window', `${f.stored} (${f.stored / KB100} blobs in ${f.seconds} s)`]);
  rows.push(['90 % full: the client\'s hash rate (16 searches sharing one thread)', `${rate.toFixed(0)} hashes/s`]);
  rows.push(['90 % full: expected bytes per second at that rate', `${((KB100 * rate) / 2 ** f.askedBits).toFixed(2)} B/s (one blob every ${(2 ** f.askedBits / rate / 3600).toFixed(1)} h)`]);
}

/** Native SHA-256 on one core, the rate a determined attacker starts from (GPUs go far beyond). */
function nativeRate(): number {
  const message = Buffer.from(`relaystore stamp v1\n${'ab'.repeat(16)}\n${FAR}\n0123456789abcdef`);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < 2000) {
    for (let i = 0; i < 10_000; i++, n++) {
      message[message.length - 1] = i & 0xff;
      createHash('sha256').update(message).digest();
    }
  }
  return n / ((performance.now() - started) / 1000);
}

function clientRate(): number {
  const search = new StampSearch('ab'.repeat(16), FAR, 256);
  const started = performance.now();
  while (performance.now() - started < 2000) search.step(10_000);
  return search.tried / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'relaystore-bench-admission-'));
  try {
    await benchTriggers(work);
    await benchAttack(work);
    const client = clientRate();
    const native = nativeRate();
    rows.push(['the client library\'s search on one core (noble SHA-256)', `${client.toFixed(0)} hashes/s`]);
    rows.push(['native SHA-256 on one core (node:crypto)', `${native.toFixed(0)} hashes/s: a 30-bit stamp every ${(2 ** 30 / native / 60).toFixed(0)} min, ${((KB100 * native) / 2 ** 30).toFixed(1)} B/s`]);
    rows.push(['an honest 560-byte submission at 90 % full (20 bits), client library', `~${(2 ** 20 / client).toFixed(1)} s`]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

await main();
