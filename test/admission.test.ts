// SPEC §8 against `relaystore serve` as a child process, as a hostile client would meet it: the fill
// attack (one client, 16 connections, 100 KB blobs 4.9 years ahead) stopped by the quota and priced
// by stamps; height locktimes while no tip is known; the byte count exact after SIGKILL; the client
// library and CLI paying the price.
import test from 'ava';
import { randomBytes, createHash } from 'node:crypto';
import { join } from 'node:path';
import { Sqlite } from '../src/store/sqlite.js';
import { DB_FILE } from '../src/store/store.js';
import { solveStamp } from '../src/domain/stamp.js';
import { RelayStoreClient } from '../src/client/client.js';
import type { StampProgress } from '../src/domain/stamp.js';
import { startServiceWorld, restartService, type ServiceWorld } from './support/service-world.js';
import { startService, runCli } from './support/service.js';
import { makeTx } from './support/txs.js';
import { until, within } from './support/wait.js';
import { TestClient } from './support/client.js';

const KB100 = 102_400;
const YEAR_OF_BLOCKS = 52_560;

interface Answer {
  status: number;
  json: any;
}

/** A hostile client's POST: random bytes are a valid-looking sealed blob until it matures. */
function post(w: ServiceWorld, sealed: Buffer, locktime: number, stamp?: string): Promise<Answer> {
  return w.client.json('POST', '/v1/transactions', { locktime, sealed: sealed.toString('hex'), ...(stamp ? { stamp } : {}) });
}

const idOf = (sealed: Buffer) => createHash('sha256').update(sealed).digest().subarray(0, 16).toString('hex');

async function admission(w: ServiceWorld): Promise<{ bits: number; storeFull: number }> {
  return (await w.client.json('GET', '/v1/info')).json.admission;
}

/** Runs `one` on `connections` connections until `stop` says so or `attempts` are spent; answers in arrival order. */
async function flood(connections: number, attempts: number, one: () => Promise<Answer>, stop: (a: Answer) => boolean): Promise<Answer[]> {
  const answers: Answer[] = [];
  let started = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && started++ < attempts) {
      const a = await one();
      answers.push(a);
      if (stop(a)) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return answers;
}

test('the fill attack: unstamped 100 KB blobs stop at the threshold, stamped ones at the quota, and nothing passes it', async (t) => {
  const quota = 2_000_000;
  const w = await startServiceWorld(t, { args: ['--max-store-bytes', String(quota), '--admission-threshold', '0.5', '--admission-max-bits', '4'] });
  const far = w.explorer.tip().height + Math.round(4.9 * YEAR_OF_BLOCKS);
  t.deepEqual(await admission(w), { bits: 0, storeFull: 0 }, 'calm: no work asked');

  // 16 connections, no stamps: accepted while calm, then every one refused with stamp_required.
  const bare = await flood(16, 200, () => post(w, randomBytes(KB100), far), () => false);
  const accepted = bare.filter((a) => a.status === 201).length;
  t.true(bare.every((a) => a.status === 201 || a.json.error.code === 'stamp_required'), JSON.stringify(bare.find((a) => a.status !== 201 && a.json.error.code !== 'stamp_required')));
  // The threshold is 1,000,000 bytes: 9 blobs stay under it, the 10th crosses it, none after.
  t.is(accepted, 10, 'concurrent submissions see each other: none slips past the threshold');
  const level = await admission(w);
  t.is(level.bits, 1);
  const refusal = bare.find((a) => a.status === 400)!;
  t.regex(refusal.json.error.message, /\b11 bits\b/, '1 + 7 for 100 KB + 3 for 4.9 years');

  // The same client now pays: every stamped blob gets in until the quota, then store_full, stamp or not.
  const stamped = async () => {
    const sealed = randomBytes(KB100);
    const bits = (await admission(w)).bits + 7 + 3;
    return post(w, sealed, far, solveStamp(idOf(sealed), far, bits));
  };
  const paid = await flood(4, 40, stamped, (a) => a.status === 503);
  const codes = new Set(paid.map((a) => (a.status === 201 ? 201 : a.json.error.code)));
  t.true([...codes].every((c) => c === 201 || c === 'store_full' || c === 'stamp_required'), [...codes].join());
  t.true(paid.some((a) => a.status === 201) && codes.has('store_full'));
  const full = await admission(w);
  t.is(full.bits, 4);
  t.true(full.storeFull >= 0.95 && full.storeFull <= 1, String(full.storeFull));
  const stored = (accepted + paid.filter((a) => a.status === 201).length) * KB100;
  t.true(stored <= quota, `${stored} bytes stored under a quota of ${quota}`);

  // A small stamped blob still fits in what is left; a 100 KB one does not, even with its stamp.
  const small = randomBytes(560);
  const near = w.explorer.tip().height + 10;
  t.is((await post(w, small, near, solveStamp(idOf(small), near, 4))).status, 201);
  const big = randomBytes(KB100);
  const tooBig = await post(w, big, far, solveStamp(idOf(big), far, 14));
  t.is(tooBig.status, 503);
  t.is(tooBig.json.error.code, 'store_full');
  // A retry of a stored blob is answered at a full store, without a stamp.
  t.is((await post(w, small, near)).status, 200);
});

test('a height locktime while no tip was ever known is 503 unavailable; after a restart with the explorers down, the last tip on disk judges it', async (t) => {
  const w = await startServiceWorld(t);
  const tip = w.explorer.tip().height;
  await until(() => savedTipHeight(w).then((h) => h === tip), 'the tip saved on disk');
  await w.service.kill('SIGKILL');
  // A fresh data directory: this server never knew a tip.
  const fresh = [...w.args];
  fresh[fresh.indexOf('--data-dir') + 1] = join(w.dir, 'fresh');
  w.explorer.setMode('down');
  w.service = await startService(fresh);
  const url = w.service.url;
  const postTo = (locktime: number) => fetch(`${url}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locktime, sealed: randomBytes(560).toString('hex') }) });
  const unknown = await postTo(tip + 1);
  t.is(unknown.status, 503);
  t.like(await unknown.json(), { error: { code: 'unavailable' } });
  t.is((await postTo(499_999_999)).status, 503, 'the largest height locktime, accepted before SPEC §8');
  t.is((await postTo(0)).status, 201, 'locktime 0 is mature whatever the tip');
  t.is((await postTo(1_900_000_000)).status, 201, 'a time locktime needs no tip');
  await w.service.kill('SIGTERM');

  // The first data directory knew the tip: restarted with every explorer down, it judges by it.
  await restartServiceWithoutTip(w);
  t.is((await w.client.json('GET', '/v1/info')).json.tip.height, tip, '/v1/info shows the last tip known');
  t.is((await post(w, randomBytes(560), tip + 1)).status, 201);
  const tooFar = await post(w, randomBytes(560), tip + 5 * YEAR_OF_BLOCKS + 1);
  t.is(tooFar.json.error.code, 'locktime_too_far');
});

async function savedTipHeight(w: ServiceWorld): Promise<number | undefined> {
  const db = await Sqlite.open(join(w.dir, 'data', DB_FILE), 'readonly');
  try {
    return (await db.get<{ height: number }>('SELECT height FROM last_tip'))?.height;
  } finally {
    await db.close();
  }
}

/** Starts the world's own data directory again while its explorers answer nothing (restartService would wait for a tip). */
async function restartServiceWithoutTip(w: ServiceWorld): Promise<void> {
  w.service = await startService(w.args);
  w.client = new TestClient(w.service.url);
}

test('after SIGKILL amid submissions and cancels, the byte count is what the rows hold, and the quota is exact to the byte after restart', async (t) => {
  const quota = 3_000_000;
  const w = await startServiceWorld(t, { args: ['--max-store-bytes', String(quota), '--admission-threshold', '1'] });
  const near = w.explorer.tip().height + 100;
  let started = 0;
  let stored = 0;
  let killed: Promise<unknown> | null = null;
  const worker = async () => {
    while (started++ < 400) {
      const n = started;
      const sealed = randomBytes(200 + Math.floor(Math.random() * 20_000));
      try {
        const a = await post(w, sealed, near);
        if (a.status !== 201) continue;
        // The hundredth blob on disk is the moment: the other workers' submissions and cancels are in flight.
        if (++stored === 100) killed = w.service.kill('SIGKILL');
        // Every third one is cancelled at once: its bytes leave the count in the same statement as the wipe.
        if (n % 3 === 0) await w.client.json('DELETE', `/v1/transactions/${a.json.id}`, undefined, { Authorization: `Bearer ${a.json.token}` });
      } catch {
        return; // the kill cut the connection
      }
    }
  };
  // A loaded machine commits slowly: the deadline is for a hung service, not a pace.
  t.timeout(240_000);
  await within(Promise.all(Array.from({ length: 8 }, worker)), 'a hundred blobs stored, then SIGKILL', 180_000);
  t.truthy(killed, `killed amid the submissions (${stored} of ${started} stored)`);
  await killed;

  const db = await Sqlite.open(join(w.dir, 'data', DB_FILE), 'readonly');
  const rows = (await db.get<{ n: number }>('SELECT coalesce(sum(length(sealed)), 0) AS n FROM records WHERE state IN (1, 2, 3, 4)'))!.n;
  const counter = (await db.get<{ bytes: number }>('SELECT bytes FROM store_bytes'))!.bytes;
  await db.close();
  t.true(rows > 0);
  t.is(counter, rows, 'the count on disk after SIGKILL');

  await restartService(w);
  t.is((await admission(w)).storeFull, Math.round((rows / quota) * 100) / 100);
  // Fill to within one blob of the quota (leaving at least 1000 bytes), then the last byte decides.
  let left = quota - rows;
  while (left > KB100) {
    const size = Math.min(KB100, left - 1000);
    t.is((await post(w, randomBytes(size), near)).status, 201);
    left -= size;
  }
  const over = await post(w, randomBytes(left + 1), near);
  t.is(over.json.error?.code, 'store_full', `${left + 1} bytes with ${left} left`);
  t.is((await post(w, randomBytes(left), near)).status, 201, `${left} bytes with ${left} left`);
});

test('the client library and the CLI pay the stamp a busy server asks for, with an estimate and progress on stderr', async (t) => {
  // Threshold 0: any fill asks for work; 8 bits at most keep the test quick.
  const w = await startServiceWorld(t, { args: ['--max-store-bytes', '100000', '--admission-threshold', '0', '--admission-max-bits', '8'] });
  const locktime = w.explorer.tip().height + 10;
  await post(w, randomBytes(20_000), locktime);
  const level = await admission(w);
  t.true(level.bits >= 1, JSON.stringify(level));

  const seen: StampProgress[] = [];
  const client = new RelayStoreClient({ server: w.service.url, socks: null, onStampProgress: (p) => seen.push(p) });
  const tx = makeTx({ locktime });
  const submission = await client.submit(tx.hex);
  t.false(submission.alreadyKnown);
  t.true(seen.at(-1)?.found, 'a stamp was computed');
  t.true(seen.at(-1)!.bits >= level.bits);

  const cli = await runCli(['submit', makeTx({ locktime }).hex, '--server', w.service.url, '--receipts', join(w.dir, 'receipts.jsonl')]);
  t.is(cli.code, 0, cli.stderr);
  t.regex(cli.stderr, /stamp: the server is busy and asks for \d+ bits of work: about [\d,]+ hashes, ~[\d.]+ (s|min|h|days) at the [\d,]+ hashes\/s measured here/);
  t.regex(cli.stderr, /stamp: found after [\d,]+ hashes/);
  t.regex(cli.stdout, /accepted and stored/);
  // A pinned key (as several servers) takes the group path: it pays the same price, and says so per server.
  const { keyId } = (await w.client.json('GET', '/v1/info')).json.sealing;
  const host = new URL(w.service.url).host;
  const pinned = await runCli(['submit', makeTx({ locktime }).hex, '--server', `${keyId}@${w.service.url}`, '--receipts', join(w.dir, 'receipts.jsonl')]);
  t.is(pinned.code, 0, pinned.stderr);
  t.true(pinned.stderr.includes(`${host}: stamp: the server is busy and asks for `), pinned.stderr);
  t.true(pinned.stderr.includes(`${host}: stamp: found after `), pinned.stderr);
  const info = await runCli(['info', '--server', w.service.url]);
  t.regex(info.stdout, /admission\s+store \d+% full; stamps of \d+ bits and more asked/);
  // Past --max-stamp-bits the CLI refuses before any search, naming what was asked and the cap.
  const capped = await runCli(['submit', makeTx({ locktime }).hex, '--server', w.service.url, '--max-stamp-bits', '0', '--receipts', join(w.dir, 'receipts.jsonl')]);
  t.is(capped.code, 5, capped.stderr);
  t.regex(capped.stderr, /asks for a proof of work of \d+ bits, more than the 0 bits this client computes at most/);
  t.notRegex(capped.stderr, /stamp: the server is busy/);
  t.is((await runCli(['submit', makeTx({ locktime }).hex, '--server', w.service.url, '--max-stamp-bits', '1.5'])).code, 2);
});
