// The client library (the package's main export) against a running `relaystore serve`, reached
// only through a real SOCKS5 server by name, as a wallet reaches an onion.
import test from 'ava';
import { createHash } from 'node:crypto';
import {
  RelayStoreClient,
  BadTransactionError,
  BadReceiptError,
  KeyMismatchError,
  ServerError,
  UnreachableError,
  RelayStoreError,
  verifyReceipt,
} from '../src/index.js';
import { makeClientWorld, SERVER_NAME, TAMPERING_NAME } from './support/client-world.js';
import { makeTx } from './support/txs.js';
import { until } from './support/wait.js';

test('submit seals locally, goes through SOCKS by name with its own credentials, and returns a verified receipt; the broadcast carries the txid computed locally', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: w.server, socks: w.socks.url });
  const tip = w.explorer.tip().height;
  const tx = makeTx({ locktime: tip + 2, segwit: true });

  const before = w.socks.connections.length;
  const s = await client.submit(tx.hex);
  t.is(s.txid, tx.txid);
  t.is(s.locktime, tip + 2);
  t.is(s.locktimeType, 'height');
  t.regex(s.id, /^[0-9a-f]{32}$/);
  t.regex(s.token, /^[0-9a-f]{64}$/);
  t.false(s.alreadyKnown);
  const info = await client.info();
  t.is(s.receiptKey, info.receipts.publicKey);

  const mine = w.socks.connections.slice(before).filter((c) => c.host === SERVER_NAME);
  t.true(mine.length >= 2, 'info and submit each went through SOCKS');
  t.true(mine.every((c) => c.atyp === 'domain' && c.port === 80), 'by name (socks5h), never a local look-up');
  t.is(new Set(mine.map((c) => c.username)).size, mine.length, 'fresh credentials per request');
  t.true(mine.some((c) => c.firstLine === 'POST /v1/transactions HTTP/1.1'));

  t.is((await client.status(s.id)).status, 'pending');
  await w.mine(2);
  await w.explorer.waitForReceived(tx.txid, 20_000);
  t.true(w.explorer.accepted(tx.txid));
  await w.mine(2);
  const confirmed = await until(async () => {
    const status = await client.status(s.id);
    return status.status === 'confirmed' && status;
  }, `${s.id} confirmed`);
  t.is(confirmed.txid, tx.txid);
});

test('cancel needs the right token: a wrong one is a ServerError 403 forbidden, the right one cancels', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: w.server, socks: w.socks.url });
  const s = await client.submit(makeTx({ locktime: w.explorer.tip().height + 50 }).hex, { window: 60 });
  const wrong = await t.throwsAsync(client.cancel(s.id, 'ab'.repeat(32)), { instanceOf: ServerError });
  t.is(wrong?.status, 403);
  t.is(wrong?.code, 'forbidden');
  t.deepEqual(await client.cancel(s.id, s.token), { id: s.id, status: 'cancelled' });
  t.is((await client.status(s.id)).status, 'cancelled');
  const gone = await t.throwsAsync(client.status('00'.repeat(16)), { instanceOf: ServerError });
  t.is(gone?.code, 'not_found');
});

test('a server refusal carries its SPEC code: a window above the limit is invalid_window', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: w.server, socks: w.socks.url });
  const err = await t.throwsAsync(client.submit(makeTx({ locktime: 10 }).hex, { window: 10 ** 9 }), { instanceOf: ServerError });
  t.is(err?.status, 400);
  t.is(err?.code, 'invalid_window');
  t.true(err instanceof RelayStoreError);
});

test('a pinned key that is not the server\'s stops the submission before anything is sealed or sent', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: w.server, socks: w.socks.url, expectKey: '00'.repeat(8) });
  const before = w.socks.connections.length;
  await t.throwsAsync(client.submit(makeTx({ locktime: 10 }).hex), { instanceOf: KeyMismatchError });
  // The service's own chain polling goes through the same SOCKS server: look only at what reached the server.
  const after = w.socks.connections.slice(before).filter((c) => c.host === SERVER_NAME);
  t.deepEqual(after.map((c) => c.firstLine), ['GET /v1/info HTTP/1.1'], 'only the key was fetched');

  const info = await new RelayStoreClient({ server: w.server, socks: w.socks.url }).info();
  for (const pin of [info.sealing.publicKey, info.sealing.keyId]) {
    const pinned = new RelayStoreClient({ server: w.server, socks: w.socks.url, expectKey: pin });
    t.regex((await pinned.submit(makeTx({ locktime: 10 }).hex)).id, /^[0-9a-f]{32}$/);
  }
});

test('a receipt that does not verify is a BadReceiptError, never a success', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: `http://${TAMPERING_NAME}`, socks: w.socks.url });
  await t.throwsAsync(client.submit(makeTx({ locktime: 10 }).hex), { instanceOf: BadReceiptError });
});

test('what is not a transaction is a BadTransactionError, and nothing leaves the machine', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: w.server, socks: w.socks.url });
  const before = w.socks.connections.length;
  for (const bad of ['', 'zz', 'abc', '0200000000', makeTx({ locktime: 1 }).hex + '00']) {
    await t.throwsAsync(client.submit(bad), { instanceOf: BadTransactionError }, JSON.stringify(bad));
  }
  t.is(w.socks.connections.length, before);
});

test('an unreachable server (the SOCKS server cannot connect) is an UnreachableError', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: 'http://nowhere.test', socks: w.socks.url, retries: 0, timeoutMs: 5000 });
  const err = await t.throwsAsync(client.info(), { instanceOf: UnreachableError });
  t.is(err?.server, 'nowhere.test');
});

test('without Tor only a loopback server may be reached, and only socks5h is accepted', (t) => {
  t.throws(() => new RelayStoreClient({ server: 'http://example.onion', socks: null }), { instanceOf: TypeError });
  t.throws(() => new RelayStoreClient({ server: 'http://example.onion', socks: 'socks5://127.0.0.1:9050' }), { message: /socks5h/ });
  t.notThrows(() => new RelayStoreClient({ server: 'http://127.0.0.1:8080', socks: null }));
});

test('the receipt a client keeps proves later, to anyone, that the server accepted exactly this blob and locktime', async (t) => {
  const w = await makeClientWorld(t);
  const client = new RelayStoreClient({ server: w.server, socks: w.socks.url });
  const s = await client.submit(makeTx({ locktime: 10 }).hex);
  t.is(s.id, s.sealedSha256.slice(0, 32));
  t.true(verifyReceipt(s.receiptKey, s.receipt, s.id, s.locktime, s.sealedSha256));
  t.false(verifyReceipt(s.receiptKey, s.receipt, s.id, s.locktime + 1, s.sealedSha256));
  t.false(verifyReceipt(s.receiptKey, s.receipt, s.id, s.locktime, createHash('sha256').update('another blob').digest('hex')));
});
