// The page at `/` without a browser (through app.callback()): what it shows, the headers that keep
// it private, and the no-JavaScript forms (the server seals on receipt).
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { makeWorld } from './support/world.js';
import { makeTx } from './support/txs.js';
import { PAGE_CSP } from '../src/http/page.js';

const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const field = (html: string, name: string) => html.match(new RegExp(`data-field="${name}">([^<]*)<`))?.[1];

test('the page shows network, tip and keys, with a strict CSP, no referrer and no cookies', async (t) => {
  const w = await makeWorld();
  t.teardown(() => w.close());
  w.tip = { height: 812, hash: 'ab'.repeat(32), medianTime: 1_718_000_000 };
  const res = await w.request({ method: 'GET', url: '/' });
  t.is(res.status, 200);
  t.is(res.headers['content-security-policy'], PAGE_CSP);
  t.is(res.headers['referrer-policy'], 'no-referrer');
  t.is(res.headers['set-cookie'], undefined);
  t.regex(String(res.headers['content-type']), /^text\/html/);
  t.is(field(res.text, 'network'), 'regtest');
  t.regex(res.text, /data-field="tip">812 /);
  t.true(res.text.includes(Buffer.from(w.keys.current.publicKey).toString('hex')));
  t.true(res.text.includes(Buffer.from(w.keys.receiptPublicKey).toString('hex')));
  t.regex(res.text, /the server will\s+see your transaction/, 'says plainly what happens without JavaScript');
  t.notRegex(res.text, /https?:\/\/(?!www\.w3)/, 'no absolute URL: nothing from anywhere else');
  t.notRegex(res.text, /<script>|\son[a-z]+=|style=/, 'no inline script, handler or style (the CSP forbids them)');
});

test('the page\'s one script (as npm run build bundled it) and its style are served same-origin; nothing else under /assets', async (t) => {
  const w = await makeWorld();
  t.teardown(() => w.close());
  const script = await w.request({ method: 'GET', url: '/assets/page.js' });
  t.is(script.status, 200);
  t.regex(String(script.headers['content-type']), /^text\/javascript/);
  t.is(script.text, await readFile(new URL('../web/page.js', import.meta.url), 'utf8'), 'the bundle under dist/web');
  const style = await w.request({ method: 'GET', url: '/assets/page.css' });
  t.regex(String(style.headers['content-type']), /^text\/css/);
  for (const path of ['/assets/envelope.js', '/assets/nacl-fast.min.js', '/assets/noble/blake2.js', '/assets/keys.json', '/assets/..%2Fpackage.json']) {
    t.is((await w.request({ method: 'GET', url: path })).status, 404, path);
  }
});

test('without JavaScript: the server seals what the form hands in, shows id, txid and token once; status and cancel work as forms', async (t) => {
  const w = await makeWorld();
  t.teardown(() => w.close());
  const tx = makeTx({ locktime: 900, segwit: true });
  const stored = await w.request({ method: 'POST', url: '/submit', ...form({ tx: `  ${tx.hex}\n`, window: '30' }) });
  t.is(stored.status, 201);
  t.regex(String(stored.headers['content-type']), /^text\/html/);
  const id = field(stored.text, 'id')!;
  const token = field(stored.text, 'token')!;
  t.is(field(stored.text, 'txid'), tx.txid);
  t.regex(token, /^[0-9a-f]{64}$/);
  t.is(field(stored.text, 'locktime'), '900 (height)');

  const status = await w.request({ method: 'GET', url: `/status?id=${id}` });
  t.is(field(status.text, 'status'), 'pending');
  const api = await w.request({ method: 'GET', url: `/v1/transactions/${id}` });
  t.like(api.json, { id, status: 'pending', locktime: 900 });

  const wrong = await w.request({ method: 'POST', url: '/cancel', ...form({ id, token: 'ab'.repeat(32) }) });
  t.is(wrong.status, 403);
  t.regex(wrong.text, /<code>forbidden<\/code>/);
  const cancelled = await w.request({ method: 'POST', url: '/cancel', ...form({ id, token }) });
  t.is(cancelled.status, 200);
  t.regex(cancelled.text, /is cancelled/);
  t.is(field((await w.request({ method: 'GET', url: `/status?id=${id}` })).text, 'status'), 'cancelled');
});

test('the forms answer every mistake with an HTML page that says what is wrong', async (t) => {
  const w = await makeWorld();
  t.teardown(() => w.close());
  const cases: Array<{ url: string; fields: Record<string, string>; status: number; code: string }> = [
    { url: '/submit', fields: { tx: 'not hex' }, status: 400, code: 'invalid_transaction' },
    { url: '/submit', fields: { tx: makeTx({ locktime: 1 }).hex + '00' }, status: 400, code: 'invalid_transaction' },
    { url: '/submit', fields: { tx: makeTx({ locktime: 1 }).hex, window: '-4' }, status: 400, code: 'invalid_window' },
    { url: '/cancel', fields: { id: '00'.repeat(16), token: '' }, status: 401, code: 'unauthorized' },
    { url: '/cancel', fields: { id: '00'.repeat(16), token: 'ab'.repeat(32) }, status: 404, code: 'not_found' },
  ];
  for (const c of cases) {
    const res = await w.request({ method: 'POST', url: c.url, ...form(c.fields) });
    t.is(res.status, c.status, JSON.stringify(c));
    t.regex(res.text, new RegExp(`<code>${c.code}</code>`), JSON.stringify(c));
    t.is(res.headers['content-security-policy'], PAGE_CSP);
  }
  const json = await w.request({ method: 'POST', url: '/submit', payload: { tx: 'ab' } });
  t.is(json.status, 415);
  const missing = await w.request({ method: 'GET', url: '/status?id=' + '11'.repeat(16) });
  t.is(missing.status, 404);
});

test('the API answers carry the same privacy headers', async (t) => {
  const w = await makeWorld();
  t.teardown(() => w.close());
  const res = await w.request({ method: 'GET', url: '/v1/info' });
  t.is(res.headers['referrer-policy'], 'no-referrer');
  t.is(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  t.is(res.headers['set-cookie'], undefined);
});
