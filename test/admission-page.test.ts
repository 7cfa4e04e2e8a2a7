// SPEC §8 on the page, in Debian's headless Chromium against `relaystore serve`: with JavaScript on
// the browser computes the stamp a busy server asks for; with it off the page says plainly that the
// server asks for work it cannot do, and the form is refused. The bundle holds to the stamp table.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { TestExplorer } from './support/explorer.js';
import { startService, type Service } from './support/service.js';
import { serveArgs } from './support/serve-args.js';
import { makeTx } from './support/txs.js';
import { checkStamp, requiredBits } from '../src/domain/stamp.js';
import { fixture, type StampFixtures } from './support/fixtures.js';

interface BusyWorld {
  explorer: TestExplorer;
  service: Service;
  browser: Browser;
  bits: number;
}

/** A server whose store is a fifth full with --admission-threshold 0: it asks every submission for work. */
async function busyWorld(t: { teardown(fn: () => unknown): void }): Promise<BusyWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-busy-page-'));
  const explorer = await TestExplorer.start({ startHeight: 500, unknownTxStatus: 'unconfirmed' });
  const world = { explorer } as BusyWorld;
  t.teardown(async () => {
    await world.browser?.close();
    await world.service?.kill('SIGTERM');
    await explorer.close();
    await rm(dir, { recursive: true, force: true });
  });
  const extra = ['--max-store-bytes', '100000', '--admission-threshold', '0', '--admission-max-bits', '8'];
  world.service = await startService(serveArgs({ dataDir: join(dir, 'data'), explorers: [`http://127.0.0.1:${explorer.port}/api`], tor: { mode: 'off' }, extra }));
  await world.service.judged(explorer.tip().height);
  const body = JSON.stringify({ locktime: explorer.tip().height + 10, sealed: randomBytes(20_000).toString('hex') });
  await fetch(`${world.service.url}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  world.bits = ((await (await fetch(`${world.service.url}/v1/info`)).json()) as { admission: { bits: number } }).admission.bits;
  world.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  return world;
}

test('with JavaScript on, the browser computes the stamp the busy server asks for, and the submission is stored', async (t) => {
  const w = await busyWorld(t);
  t.true(w.bits > 0);
  const page = await (await w.browser.newContext({ javaScriptEnabled: true })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const posts: string[] = [];
  page.on('request', (r) => r.method() === 'POST' && posts.push(r.postData() ?? ''));
  await page.goto(w.service.url + '/');
  t.regex((await page.locator('[data-field="admission"]').textContent()) ?? '', /a proof of work of \d+ bits or more is asked/);
  t.false(await page.locator('#work-nojs').isVisible(), 'the warning for forms without JavaScript is hidden');

  const tx = makeTx({ locktime: w.explorer.tip().height + 5 });
  await page.fill('#tx', tx.hex);
  await page.click('#submit-form button');
  await page.locator('#submit-result.ok').waitFor();
  t.is(await page.locator('#submit-result [data-field="txid"]').textContent(), tx.txid);
  const body = JSON.parse(posts.at(-1)!) as { locktime: number; sealed: string; stamp?: string };
  const id = (await page.locator('#submit-result [data-field="id"]').textContent())!;
  const asked = requiredBits({ admissionBits: w.bits, sealedBytes: body.sealed.length / 2, locktime: body.locktime, tip: w.explorer.tip(), now: 0 });
  t.is(checkStamp({ bits: asked, id, locktime: body.locktime, nonce: body.stamp ?? '' }), 'valid', 'the stamp sent pays what the server asked');
  t.deepEqual(problems, []);
});

test('a server whose /v1/info asks for more bits than the client library\'s cap (32): the page says so plainly and neither searches nor sends', async (t) => {
  const w = await busyWorld(t);
  const page = await (await w.browser.newContext({ javaScriptEnabled: true })).newPage();
  // The page's script reads /v1/info itself: this one answers as a hostile or broken server would.
  await page.route('**/v1/info', async (route) => {
    const response = await route.fetch();
    const info = (await response.json()) as { admission: { bits: number } };
    await route.fulfill({ response, json: { ...info, admission: { ...info.admission, bits: 60 } } });
  });
  const posts: string[] = [];
  page.on('request', (r) => r.method() === 'POST' && posts.push(r.url()));
  await page.goto(w.service.url + '/');
  await page.fill('#tx', makeTx({ locktime: w.explorer.tip().height + 5 }).hex);
  await page.click('#submit-form button');
  await page.locator('#submit-result.error').waitFor({ timeout: 20_000 });
  t.regex((await page.locator('#submit-result').textContent()) ?? '', /The server asks for a proof of work of \d+ bits, more than the 32 bits this client computes at most/);
  t.deepEqual(posts, []);
});

test('with JavaScript off, the page says the server asks for work it cannot do, and the form is refused with that reason', async (t) => {
  const w = await busyWorld(t);
  const page = await (await w.browser.newContext({ javaScriptEnabled: false })).newPage();
  await page.goto(w.service.url + '/');
  const warning = (await page.locator('#work-nojs').textContent()) ?? '';
  t.regex(warning, /busy and asks every submission for a proof of work/);
  t.regex(warning, /Without JavaScript this page cannot compute it, and the server does not compute it for anyone/);

  await page.fill('#tx', makeTx({ locktime: w.explorer.tip().height + 5 }).hex);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#submit-form button')]);
  t.is(response?.status(), 400);
  t.regex((await page.locator('#problem').textContent()) ?? '', /proof of work \(\d+ bits or more\)[\s\S]*stamp_required/);
});

test('the page\'s bundled script, as the browser runs it, holds to the stamp table and finds stamps the table\'s check accepts', async (t) => {
  const w = await busyWorld(t);
  const page = await (await w.browser.newContext({ javaScriptEnabled: true })).newPage();
  await page.goto(w.service.url + '/');
  const f = fixture<StampFixtures>('stamps.json');
  const results = await page.evaluate(async (rows) => {
    const path = '/assets/page.js';
    const bundle = await import(path);
    return {
      verdicts: rows.map((r) => bundle.checkStamp(r) as string),
      found: bundle.solveStamp('ab'.repeat(16), 850_000, 10) as string,
    };
  }, f.rows);
  f.rows.forEach((row, i) => t.is(results.verdicts[i], row.valid ? 'valid' : row.why, row.note));
  t.is(checkStamp({ bits: 10, id: 'ab'.repeat(16), locktime: 850_000, nonce: results.found }), 'valid');
});
