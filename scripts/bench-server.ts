// The benchmark's server, in its own process so the load generator does not share its event loop:
// `relay DATA_DIR` is RelayStore's API as compose() builds it for serve (no chain side); `echo`, bare Koa.
import http from 'node:http';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
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

async function main(): Promise<void> {
  const [mode, dataDir] = process.argv.slice(2);
  const service = mode === 'echo' ? null : await relay(dataDir!);
  const server = http.createServer((service?.app ?? echoApp()).callback());
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.once('SIGTERM', () => {
    server.close();
    void (service?.close() ?? Promise.resolve()).then(() => process.exit(0));
  });
}

void main();
