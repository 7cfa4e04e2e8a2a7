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
import { makeTx, type TestTx } from './support/txs.js';
import { openSealed } from '../src/crypto/sealed-box.js';
import { pad } from '../src/crypto/padding.js';
import { fixture, type TransactionFixtures } from './support/fixtures.js';

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
  service = await startService([
    '--network', 'regtest', '--tor', 'off',
    '--explorer', `http://127.0.0.1:${explorer.port}/api`,
    '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--poll-interval', '1', '--confirmations', '1', '--retry-min', '1', '--retry-max', '2',
  ]);
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
  const deadline = Date.now() + 20_000;
  let status = '';
  while (Date.now() < deadline && (status = await statusThroughPage(page, w.service.url, shown.id)) !== 'confirmed') await new Promise((r) => setTimeout(r, 300));
  t.is(status, 'confirmed');

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

test('the browser\'s own transaction parser agrees with the fixture table (txid, locktime, what it refuses)', async (t) => {
  const w = await makeBrowserWorld(t);
  const { page, problems } = await open(w, true);
  const table = fixture<TransactionFixtures>('transactions.json');
  const results = await page.evaluate(async (hexes: string[]) => {
    const path = '/assets/envelope.js';
    const envelope = await import(path);
    return hexes.map((hex) => {
      try {
        return envelope.parseTransaction(envelope.hexToBytes(hex));
      } catch (err) {
        return { error: String(err) };
      }
    });
  }, [...table.valid.map((v) => v.hex), ...table.invalid.map((v) => v.hex)]);
  table.valid.forEach((v, i) => t.deepEqual(results[i], { locktime: v.locktime, txid: v.txid }, v.description));
  table.invalid.forEach((v, i) => t.truthy((results[table.valid.length + i] as { error?: string }).error, v.description));
  t.deepEqual(problems, []);
});
