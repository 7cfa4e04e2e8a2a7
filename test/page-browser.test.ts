// The page in a real browser (Debian's headless Chromium through playwright-core), with JavaScript
// on (it seals in the browser: the transaction never leaves it in clear) and off (Tor Browser's
// Safest setting: the server seals), against `relaystore serve` and a local test explorer.
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { TestExplorer } from './support/explorer.js';
import { startService, type Service } from './support/service.js';
import { serveArgs } from './support/serve-args.js';
import { until } from './support/wait.js';
import { makeTx, type TestTx } from './support/txs.js';
import { createHash } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { openSealed, SEAL_OVERHEAD } from '../src/crypto/sealed-box.js';
import { pad } from '../src/crypto/padding.js';
import { parseTransaction } from '../src/client/envelope.js';
import { fixture, type SealingFixtures, type TransactionFixtures } from './support/fixtures.js';

interface BrowserWorld {
  dir: string;
  explorer: TestExplorer;
  service: Service;
  browser: Browser;
}

async function makeBrowserWorld(t: { teardown(fn: () => unknown): void }): Promise<BrowserWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-page-'));
  const explorer = await TestExplorer.start({ startHeight: 500, unknownTxStatus: 'unconfirmed' });
  let service: Service | null = null;
  let browser: Browser | null = null;
  t.teardown(async () => {
    await browser?.close();
    await service?.kill('SIGTERM');
    await explorer.close();
    await rm(dir, { recursive: true, force: true });
  });
  service = await startService(
    serveArgs({ dataDir: join(dir, 'data'), explorers: [`http://127.0.0.1:${explorer.port}/api`], tor: { mode: 'off' } }),
  );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  return { dir, explorer, service, browser };
}

interface Watched {
  page: Page;
  requests: Request[];
  problems: string[];
}

async function open(w: BrowserWorld, javaScriptEnabled: boolean): Promise<Watched> {
  const context = await w.browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  const requests: Request[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(w.service.url + '/');
  return { page, requests, problems };
}

async function submitThroughPage(p: Page, base: string, tx: TestTx): Promise<{ id: string; token: string; txid: string }> {
  await p.goto(base + '/');
  await p.fill('#tx', tx.hex);
  await p.click('#submit-form button');
  const result = p.locator('#submit-result.ok');
  await result.waitFor();
  const read = async (name: string) => (await result.locator(`[data-field="${name}"]`).textContent()) ?? '';
  return { id: await read('id'), token: await read('token'), txid: await read('txid') };
}

async function statusThroughPage(p: Page, base: string, id: string): Promise<string> {
  await p.goto(base + '/');
  await p.fill('#status-id', id);
  await p.click('#status-id ~ button');
  return (await p.locator('[data-field="status"]').textContent()) ?? '';
}

async function cancelThroughPage(p: Page, base: string, id: string, token: string): Promise<string> {
  await p.goto(base + '/');
  await p.fill('#cancel-id', id);
  await p.fill('#cancel-token', token);
  await p.click('#cancel-token ~ button');
  return (await p.locator('#cancel-result, #problem').textContent()) ?? '';
}

test('with JavaScript on, the browser seals: only the sealed blob is sent, the server opens it at maturity and broadcasts the txid the page showed', async (t) => {
  const w = await makeBrowserWorld(t);
  const { page, requests, problems } = await open(w, true);
  t.true(await page.locator('#sealing-js').isVisible());
  t.false(await page.locator('#sealing-nojs').isVisible());

  const tx = makeTx({ locktime: w.explorer.tip().height + 1, segwit: true });
  const shown = await submitThroughPage(page, w.service.url, tx);
  t.is(shown.txid, tx.txid, 'the page computed the txid itself');
  t.regex(shown.token, /^[0-9a-f]{64}$/);

  const posts = requests.filter((r) => r.method() === 'POST');
  t.deepEqual(posts.map((r) => new URL(r.url()).pathname), ['/v1/transactions']);
  const body = JSON.parse(posts[0]!.postData() ?? '{}');
  t.is(body.locktime, tx.tx.locktime);
  t.false((posts[0]!.postData() ?? '').includes(tx.hex), 'the raw transaction never left the browser');
  const keys = JSON.parse(await readFile(join(w.dir, 'data', 'keys.json'), 'utf8'));
  const key = keys.sealing.find((k: { keyId: string }) => k.keyId === body.keyId);
  const opened = openSealed(Buffer.from(body.sealed, 'hex'), Buffer.from(key.publicKey, 'hex'), Buffer.from(key.secretKey, 'hex'));
  t.deepEqual(Buffer.from(opened!), Buffer.from(pad(tx.bytes)), 'sealed and padded as SPEC §2 says');
  t.true(requests.every((r) => r.url().startsWith(w.service.url)), 'nothing requested from anywhere else');

  t.is(await statusThroughPage(page, w.service.url, shown.id), 'pending');
  w.explorer.mine(1);
  await w.explorer.waitForReceived(tx.txid, 20_000);
  w.explorer.mine(1);
  await until(async () => (await statusThroughPage(page, w.service.url, shown.id)) === 'confirmed', 'the page shows confirmed', 20_000, 300);

  const later = await submitThroughPage(page, w.service.url, makeTx({ locktime: w.explorer.tip().height + 100 }));
  t.regex(await cancelThroughPage(page, w.service.url, later.id, later.token), /is cancelled/);
  t.is(await statusThroughPage(page, w.service.url, later.id), 'cancelled');
  t.deepEqual(problems, [], 'no script errors, no CSP violations');
});

test('with JavaScript off (Tor Browser, Safest), the page says the server will see the transaction, and submit, status and cancel work as plain forms', async (t) => {
  const w = await makeBrowserWorld(t);
  const { page, requests } = await open(w, false);
  t.true(await page.locator('#sealing-nojs').isVisible());
  t.false(await page.locator('#sealing-js').isVisible());

  const tx = makeTx({ locktime: w.explorer.tip().height + 100 });
  const shown = await submitThroughPage(page, w.service.url, tx);
  t.is(shown.txid, tx.txid);
  t.deepEqual(requests.filter((r) => r.method() === 'POST').map((r) => new URL(r.url()).pathname), ['/submit']);
  t.regex(await page.locator('#submit-result').textContent() ?? '', /sealed it on receipt/);

  t.is(await statusThroughPage(page, w.service.url, shown.id), 'pending');
  t.regex(await cancelThroughPage(page, w.service.url, shown.id, 'ab'.repeat(32)), /forbidden/);
  t.regex(await cancelThroughPage(page, w.service.url, shown.id, shown.token), /is cancelled/);
  t.is(await statusThroughPage(page, w.service.url, shown.id), 'cancelled');
  t.true(requests.every((r) => r.url().startsWith(w.service.url)));
});

interface BundleResults {
  transactions: Array<{ txid: string; locktime: number; locktimeType: string; sealed: string; id: string } | { error: { name: string; message: string } }>;
  sealed: string[];
  badKeys: Array<{ error: { name: string; message: string } } | string>;
}

/** Runs in the page: the module the page itself loaded (the bundle), fed the fixture rows. */
async function runBundle(input: { txs: string[]; plaintexts: string[]; publicKey: string }): Promise<BundleResults> {
  const path = '/assets/page.js';
  const bundle = await import(path);
  const bytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const attempt = <T,>(fn: () => T) => {
    try {
      return fn();
    } catch (err) {
      return { error: { name: (err as Error).name, message: (err as Error).message } };
    }
  };
  const key = bytes(input.publicKey);
  return {
    transactions: input.txs.map((tx) =>
      attempt(() => {
        const parsed = bundle.parseTransaction(tx);
        const sealed = bundle.sealTransaction(key, parsed);
        return { txid: parsed.txid, locktime: parsed.locktime, locktimeType: parsed.locktimeType, sealed: hex(sealed.sealed), id: sealed.id };
      }),
    ),
    sealed: input.plaintexts.map((p) => hex(bundle.seal(key, bytes(p)))),
    badKeys: [31, 33, 0].map((n) => attempt(() => hex(bundle.seal(new Uint8Array(n), new Uint8Array(1))))),
  };
}

const errorOf = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
};

test('the page\'s bundled script, as the browser runs it, holds to the transaction and sealing fixture tables', async (t) => {
  const w = await makeBrowserWorld(t);
  const { page, problems } = await open(w, true);
  const txs = fixture<TransactionFixtures>('transactions.json');
  const sealing = fixture<SealingFixtures>('sealing.json');
  const pk = Buffer.from(sealing.key.publicKey, 'hex');
  const sk = Buffer.from(sealing.key.secretKey, 'hex');
  const results = await page.evaluate(runBundle, {
    txs: [...txs.valid, ...txs.invalid].map((v) => v.hex),
    plaintexts: sealing.valid.map((v) => v.plaintext),
    publicKey: sealing.key.publicKey,
  });

  txs.valid.forEach((v, i) => {
    const r = results.transactions[i] as { txid: string; locktime: number; locktimeType: string; sealed: string; id: string };
    t.like(r, { txid: v.txid, locktime: v.locktime, locktimeType: v.locktimeType }, v.description);
    const sealed = Buffer.from(r.sealed, 'hex');
    t.deepEqual(Buffer.from(openSealed(sealed, pk, sk) ?? []), Buffer.from(pad(Buffer.from(v.hex, 'hex'))), `padded and sealed: ${v.description}`);
    t.is(r.id, createHash('sha256').update(sealed).digest('hex').slice(0, 32), `id: ${v.description}`);
  });
  // The same refusal as the library in Node, message and all: it is the same code.
  txs.invalid.forEach((v, i) => t.deepEqual(results.transactions[txs.valid.length + i], { error: errorOf(() => parseTransaction(v.hex)) }, v.description));

  await sodium.ready;
  sealing.valid.forEach((v, i) => {
    const sealed = Buffer.from(results.sealed[i]!, 'hex');
    t.is(sealed.length, v.plaintext.length / 2 + SEAL_OVERHEAD, v.description);
    t.is(Buffer.from(openSealed(sealed, pk, sk)!).toString('hex'), v.plaintext, v.description);
    t.is(Buffer.from(sodium.crypto_box_seal_open(sealed, pk, sk)).toString('hex'), v.plaintext, `libsodium opens it: ${v.description}`);
  });
  // The table's invalid rows are blobs that must not open: the page only seals, so they are the server's (sealing.test.ts).
  t.deepEqual(results.badKeys, [31, 33, 0].map(() => ({ error: { name: 'TypeError', message: 'public key must be 32 bytes' } })));
  t.deepEqual(problems, []);
});
