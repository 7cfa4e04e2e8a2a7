// The service as operators run it (`relaystore serve` child process, --tor external), against a
// real local Esplora test explorer reached only through a real local SOCKS5 server that records
// every connection. Two explorer names point at one simulated regtest chain.
import test from 'ava';
import nacl from 'tweetnacl';
import { makeTx } from './support/txs.js';
import { startService } from './support/service.js';
import { TestClient } from './support/client.js';
import { until } from './support/wait.js';
import { pad } from '../src/crypto/padding.js';
import type { InvalidCode } from '../src/wire/vocabulary.js';
import { EXPLORER_NAMES as NAMES, mine, startServiceWorld } from './support/service-world.js';

const makeWorld = (t: { teardown(fn: () => unknown): void }, confirmations = 2) => startServiceWorld(t, { confirmations });

test.serial('submit → not sent before maturity → sent to every explorer at maturity → broadcast → confirmed', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const tx = makeTx({ locktime: height + 2 });
  const sub = await w.client.submit(tx.hex, height + 2);
  t.is(sub.status, 'pending');
  // A tick has judged the tip that is still one block short: had it found the record due, the
  // record would be broadcasting by now (opening finishes inside the tick).
  await mine(w, 1);
  t.false(w.explorer.received.some((r) => r.txid === tx.txid), 'nothing is sent before maturity');
  t.is((await w.client.status(sub.id)).status, 'pending');

  await mine(w, 1);
  const broadcast = await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
  t.is(broadcast.txid, tx.txid);
  t.true(Number.isInteger(broadcast.broadcastAt));
  t.is(w.explorer.received.filter((r) => r.txid === tx.txid).length, 2, 'one POST per explorer name');
  const posts = w.socks.connections.filter((c) => c.firstLine?.startsWith('POST /api/tx'));
  t.deepEqual(new Set(posts.map((c) => c.host)), new Set(NAMES));

  await mine(w, 2);
  const confirmed = await w.client.waitForStatus(sub.id, (r) => r.status === 'confirmed');
  t.true(confirmed.confirmations! >= 2);
});

test.serial('every connection goes through SOCKS, by name, with credentials; two transactions never share them', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const txs = [makeTx({ locktime: height + 1 }), makeTx({ locktime: height + 1 })];
  const subs = await Promise.all(txs.map((tx) => w.client.submit(tx.hex, height + 1)));
  await mine(w, 1);
  for (const s of subs) await w.client.waitForStatus(s.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');

  const connections = w.socks.connections;
  t.true(connections.length > 0);
  for (const c of connections) {
    t.is(c.atyp, 'domain', 'the name is resolved by the proxy, never locally');
    t.true(NAMES.includes(c.host));
    t.truthy(c.username);
    t.truthy(c.password);
  }
  // Everything the explorer saw came through the SOCKS server: no direct connection. Matched by the
  // client port of each request, not by counts: the service polls on, so a tunnel just opened may
  // not have delivered its request yet when they are compared.
  t.true(w.explorer.requestPorts.length > 0);
  t.deepEqual(w.explorer.requestPorts.filter((port) => !w.socks.tunnelPorts.has(port)), [], 'requests from ports no tunnel opened');

  const posts = connections.filter((c) => c.firstLine?.startsWith('POST /api/tx'));
  t.is(posts.length, 4, 'two transactions × two explorers');
  t.is(new Set(posts.map((c) => c.username)).size, 4, 'a fresh credential per (transaction, explorer, attempt)');
  const polls = connections.filter((c) => c.firstLine?.startsWith('GET /api/blocks/tip/hash'));
  const pollUsers = new Set(polls.map((c) => c.username));
  for (const p of posts) t.false(pollUsers.has(p.username), 'broadcasts never ride the polling circuit');
});

test.serial('cancel: the submitter cancels with its token; the transaction is never sent', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const tx = makeTx({ locktime: height + 1 });
  const sub = await w.client.submit(tx.hex, height + 1);
  const res = await w.client.json('DELETE', `/v1/transactions/${sub.id}`, undefined, { authorization: `Bearer ${sub.token}` });
  t.is(res.status, 200);
  t.deepEqual(res.json, { id: sub.id, status: 'cancelled' });
  await mine(w, 2); // a tick has judged a tip at which the record would be due, had it not been cancelled
  t.false(w.explorer.received.some((r) => r.txid === tx.txid));
  t.is((await w.client.status(sub.id)).status, 'cancelled');
});

test.serial('each invalid case ends invalid with its code and is never sent', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const good = makeTx({ locktime: height });
  const padded = pad(good.bytes);
  const badPadding = Uint8Array.from(padded);
  badPadding[badPadding.length - 1] = 7;
  const cases: Array<[InvalidCode, Promise<{ status: number; json: any }>]> = [
    ['locktime_mismatch', w.client.submitPlaintext(height - 1, padded)],
    ['bad_padding', w.client.submitPlaintext(height, badPadding)],
    ['malformed_transaction', w.client.submitPlaintext(height, nacl.randomBytes(512))],
    ['undecryptable', w.client.json('POST', '/v1/transactions', { locktime: height, sealed: Buffer.from(nacl.randomBytes(600)).toString('hex') })],
  ];
  for (const [code, pending] of cases) {
    const res = await pending;
    t.is(res.status, 201);
    const final = await w.client.waitForStatus(res.json.id, (r) => r.status !== 'pending' && r.status !== 'broadcasting');
    t.is(final.status, 'invalid', code);
    t.is(final.error?.code, code);
  }
  t.false(w.explorer.received.some((r) => r.txid === good.txid));
});

test.serial('inputs spent elsewhere → rejected (inputs_missing_or_spent)', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const prev = Buffer.from(nacl.randomBytes(32)).toString('hex');
  const tx = makeTx({ locktime: height, inputs: [{ txid: prev, vout: 0 }] });
  w.explorer.spendElsewhere(prev, 0);
  const sub = await w.client.submit(tx.hex, height);
  const final = await w.client.waitForStatus(sub.id, (r) => r.status === 'rejected');
  t.is(final.error?.code, 'inputs_missing_or_spent');
});

test.serial('explorers down, then back: the transaction waits in broadcasting and then goes out', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  w.explorer.setMode('down');
  const tx = makeTx({ locktime: height });
  const sub = await w.client.submit(tx.hex, height);
  await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcasting');
  // A second attempt is only made once the first one's outcome is stored: it was kept for a retry.
  await w.service.waitFor((l) => l.event === 'broadcast' && l.txid === tx.txid && l.outcome === 'unreachable');
  await w.service.waitForNext((l) => l.event === 'broadcast' && l.txid === tx.txid && l.outcome === 'unreachable');
  t.is((await w.client.status(sub.id)).status, 'broadcasting');
  w.explorer.setMode('ok');
  const done = await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
  t.is(done.txid, tx.txid);
  t.true(w.explorer.accepted(tx.txid));
});

test.serial('non-BIP68-final is retried at a later tip, not given up', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const tx = makeTx({ locktime: height, version: 2 });
  w.explorer.requireBip68(tx.txid, height + 2);
  const sub = await w.client.submit(tx.hex, height);
  await w.service.waitFor((l) => l.event === 'broadcast' && l.txid === tx.txid && l.outcome === 'non_final');
  // A tick held the refused record back: the tip has not moved past where it was refused.
  await w.service.waitFor((l) => l.event === 'tick' && Number(l.held) > 0);
  t.false(w.explorer.accepted(tx.txid));
  t.is((await w.client.status(sub.id)).status, 'broadcasting');
  await mine(w, 2);
  await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
  t.true(w.explorer.accepted(tx.txid));
});

test.serial('a transaction reorganised out is broadcast again', async (t) => {
  const w = await makeWorld(t, 6);
  const height = w.explorer.tip().height;
  const tx = makeTx({ locktime: height });
  const sub = await w.client.submit(tx.hex, height);
  await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcast');
  await mine(w, 1);
  await w.client.waitForStatus(sub.id, (r) => r.confirmations === 1);
  const before = w.explorer.received.filter((r) => r.txid === tx.txid).length;
  w.explorer.reorg(1);
  w.explorer.mine(1);
  await until(() => w.explorer.accepted(tx.txid), 'back in the mempool');
  t.true(w.explorer.received.filter((r) => r.txid === tx.txid).length > before);
});

test.serial('SIGTERM stops the service cleanly (exit code 0), and a restart resumes pending records', async (t) => {
  const w = await makeWorld(t);
  const height = w.explorer.tip().height;
  const tx = makeTx({ locktime: height + 1 });
  const sub = await w.client.submit(tx.hex, height + 1);
  t.is(await w.service.kill('SIGTERM'), 0);
  t.truthy(w.service.lines.find((l) => l.event === 'stopped'));
  for (const line of w.service.lines) {
    const text = JSON.stringify(line);
    t.false(text.includes(sub.token), 'no token in the logs');
    t.false(text.includes(tx.hex), 'no raw transaction in the logs');
  }
  w.service = await startService(w.args);
  w.client = new TestClient(w.service.url);
  t.is((await w.client.status(sub.id)).status, 'pending');
  await mine(w, 1);
  await w.client.waitForStatus(sub.id, (r) => r.status === 'broadcast' || r.status === 'confirmed');
  t.true(w.explorer.accepted(tx.txid));
});
