// The benchmark's server, in its own process so the load generator does not share its event loop:
// `relay DATA_DIR` is RelayStore's API as compose() builds it for serve (no chain side); `echo`, bare
// Koa; `floor DATA_DIR`, the least a durable signed submission costs on this stack (no Koa, no checks).
import http from 'node:http';
import { generateKeyPairSync, hash } from 'node:crypto';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { Sqlite, type Param } from '../src/store/sqlite.js';
import { BatchQueue } from '../src/util/batch-queue.js';
import { receiptMessage } from '../src/keys/receipts.js';
import { textSigner } from '../src/keys/sodium-signing.js';
import { compose, type Service } from '../src/compose.js';
import { parseServeConfig } from '../src/config.js';
import { silentLogger } from '../src/util/log.js';
import { systemClock } from '../src/util/clock.js';

function echoApp(): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
    ctx.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  });
  return app;
}

interface FloorRow {
  readonly id: Buffer;
  readonly locktime: number;
  readonly sealed: Buffer;
}

/**
 * A lower bound, not a service: node:http without Koa, JSON.parse, the blob's SHA-256, an Ed25519
 * receipt (libsodium, on the event loop), and the rows group-committed like RelayStore's (one
 * multi-row INSERT per batch, WAL, synchronous=FULL), the 201 sent after COMMIT. No validation,
 * token, quota, key slot or at-rest encryption: whatever RelayStore does is this plus those.
 */
async function floorHandler(dataDir: string): Promise<{ handler: http.RequestListener; close: () => Promise<void> }> {
  await mkdir(dataDir, { recursive: true });
  const db = await Sqlite.open(join(dataDir, 'floor.sqlite'));
  await db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS records (id BLOB NOT NULL UNIQUE, locktime INTEGER NOT NULL, sealed BLOB NOT NULL)');
  let chain = Promise.resolve();
  const schedule = (job: () => Promise<void>) => (chain = chain.then(job));
  const commits = new BatchQueue<FloorRow, true>({ run: (rows) => insertAll(db, rows), schedule });
  const sign = textSigner(generateKeyPairSync('ed25519').privateKey);
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { locktime: number; sealed: string };
      const sealed = Buffer.from(body.sealed, 'hex');
      const digest = hash('sha256', sealed, 'buffer');
      const id = digest.subarray(0, 16);
      const receipt = sign(receiptMessage(id.toString('hex'), body.locktime, digest.toString('hex')));
      void commits.push({ id, locktime: body.locktime, sealed }).then(() => {
        const text = JSON.stringify({ id: id.toString('hex'), receipt });
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      });
    });
  };
  return { handler, close: () => db.close() };
}

async function insertAll(db: Sqlite, rows: readonly FloorRow[]): Promise<true[]> {
  const params: Param[] = rows.flatMap((r) => [r.id, r.locktime, r.sealed]);
  await db.exec('BEGIN IMMEDIATE');
  await db.run(`INSERT INTO records VALUES ${rows.map(() => '(?,?,?)').join(',')}`, params);
  await db.exec('COMMIT');
  return rows.map(() => true);
}

/** Height locktimes need a tip to be judged against (SPEC §8); the load generator's lie below it. */
const TIP = { height: 849_000, hash: '00'.repeat(32), medianTime: 1_700_000_000 };

/**
 * RelayStore with serve's defaults but for a store that never fills by count; BENCH_MAX_STORE_BYTES
 * gives a smaller quota (bench-admission), BENCH_SIGNER=pool signs on libuv's pool, BENCH_SIGNER=inline on the event loop.
 */
async function relay(dataDir: string): Promise<Service> {
  const args = ['--network', 'regtest', '--tor', 'off', '--explorer', 'http://127.0.0.1:9/api', '--data-dir', dataDir, '--max-pending', '100000000', '--retention-days', '1'];
  if (process.env.BENCH_MAX_STORE_BYTES) args.push('--max-store-bytes', process.env.BENCH_MAX_STORE_BYTES);
  const parsed = parseServeConfig(args, {});
  if (parsed.kind !== 'ok') throw new Error(parsed.problems.join('; '));
  const signer = process.env.BENCH_SIGNER === 'pool' || process.env.BENCH_SIGNER === 'inline' ? process.env.BENCH_SIGNER : 'worker';
  return compose(parsed.config, { clock: systemClock, log: silentLogger, signer, chain: { current: () => TIP, feeEstimate: () => null } });
}

async function serverOf(mode: string, dataDir: string): Promise<{ handler: http.RequestListener; close: () => Promise<void> }> {
  if (mode === 'echo') return { handler: echoApp().callback(), close: async () => undefined };
  if (mode === 'floor') return floorHandler(dataDir);
  const service = await relay(dataDir);
  return { handler: service.app.callback(), close: () => service.close() };
}

async function main(): Promise<void> {
  const [mode, dataDir] = process.argv.slice(2);
  const { handler, close } = await serverOf(mode!, dataDir ?? '');
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.once('SIGTERM', () => {
    server.close();
    void close().then(() => process.exit(0));
  });
}

void main();
