// A server for the benchmark, in its own process so the load generator does not share its event
// loop: `relay DATA_DIR` is RelayStore's real API on a real store; `echo` is a bare Koa JSON echo.
import http from 'node:http';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { KeyRing } from '../src/keys/keyring.js';
import { Store } from '../src/store/store.js';
import { Intake } from '../src/engine/intake.js';
import { WorkerSigner } from '../src/keys/receipt-signer.js';
import { createApp } from '../src/http/app.js';
import { silentLogger } from '../src/util/log.js';
import { systemClock } from '../src/util/clock.js';
import { admissionLevel } from '../src/domain/admission.js';

/** Height locktimes need a tip to be judged against (SPEC §8); the load generator's lie below it. */
const TIP = { height: 849_000, hash: '00'.repeat(32), medianTime: 1_700_000_000 };
/** The defaults of `relaystore serve` (SPEC §6); BENCH_MAX_STORE_BYTES gives a smaller quota (bench-admission). */
const ADMISSION = { maxStoreBytes: Number(process.env.BENCH_MAX_STORE_BYTES ?? 8 * 1024 ** 3), threshold: 0.5, maxBits: 24 };

async function main(): Promise<void> {
  const [mode, dataDir] = process.argv.slice(2);
  let app: Koa;
  let store: Store | null = null;
  if (mode === 'echo') {
    app = new Koa();
    app.use(async (ctx) => {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
      ctx.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    });
  } else {
    const keys = await KeyRing.loadOrCreate(dataDir!);
    const opened = await Store.open(dataDir!, { maxPending: 100_000_000, maxStoreBytes: ADMISSION.maxStoreBytes });
    store = opened;
    const limits = { maxSealedBytes: 102_400, maxWindowSeconds: 86_400 };
    const signer = process.env.BENCH_SIGNER === 'pool' ? undefined : new WorkerSigner(keys.receiptPrivateKey);
    const admission = () => admissionLevel(opened.admittedBytes, ADMISSION);
    const intake = new Intake({ store, keys, clock: systemClock, tip: () => TIP, admission, limits: { ...limits, horizonYears: 5 }, retentionSeconds: 86_400, signer });
    app = createApp({ intake, keys, network: 'regtest', tip: () => TIP, admission, onion: () => null, limits, fees: () => ({ targetBlocks: 6, bumpBlocks: 3, estimate: null }), log: silentLogger });
  }
  const server = http.createServer(app.callback());
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.once('SIGTERM', () => {
    server.close();
    void (store?.close() ?? Promise.resolve()).then(() => process.exit(0));
  });
}

void main();
