// SPEC §3, endpoint by endpoint: every status and error code, through app.callback(). Every answer
// is also held against the served OpenAPI document (support/contract.ts).
import test, { type ExecutionContext } from 'ava';
import nacl from 'tweetnacl';
import { createHash } from 'node:crypto';
import { seal } from '../src/crypto/sealed-box.js';
import { verifyReceipt } from '../src/keys/receipts.js';
import { State } from '../src/domain/record.js';
import { Store } from '../src/store/store.js';
import { makeWorld, type World } from './support/world.js';
import { holdToContract } from './support/contract.js';
import { join } from 'node:path';

function sealedHex(world: World, size = 512): string {
  return Buffer.from(seal(world.keys.current.publicKey, nacl.randomBytes(size))).toString('hex');
}

async function withWorld(t: ExecutionContext, opts?: Parameters<typeof makeWorld>[0]): Promise<World> {
  const world = await makeWorld(opts);
  t.teardown(() => world.close());
  await holdToContract(t, world);
  return world;
}

const post = (world: World, payload: unknown, headers?: Record<string, string>) =>
  world.request({ method: 'POST', url: '/v1/transactions', payload: payload as object, ...(headers ? { headers } : {}) });

test('GET /v1/info describes the server', async (t) => {
  const world = await withWorld(t);
  const res = await world.request({ method: 'GET', url: '/v1/info' });
  t.is(res.status, 200);
  t.regex(String(res.headers['content-type']), /^application\/json; charset=utf-8/);
  t.like(res.json, { name: 'relaystore', version: '1.0.0', network: 'regtest', tip: world.tip, onion: null, limits: { maxSealedBytes: 102400, maxWindowSeconds: 86400, maxRungs: 16, maxTxPerRung: 25 } });
  t.deepEqual(res.json.fees, { targetBlocks: 6, bumpBlocks: 3, estimate: null });
  t.is(res.json.sealing.scheme, 'curve25519-xsalsa20-poly1305-sealedbox');
  t.regex(res.json.sealing.publicKey, /^[0-9a-f]{64}$/);
  const keyId = createHash('sha256').update(Buffer.from(res.json.sealing.publicKey, 'hex')).digest().subarray(0, 8).toString('hex');
  t.is(res.json.sealing.keyId, keyId);
  t.is(res.json.receipts.scheme, 'ed25519');
  t.regex(res.json.receipts.publicKey, /^[0-9a-f]{64}$/);
  world.tip = { height: 850000, hash: 'ab'.repeat(32), medianTime: 1718000000 };
  t.deepEqual((await world.request({ method: 'GET', url: '/v1/info' })).json.tip, world.tip);
  world.feeEstimate = 12.5;
  t.deepEqual((await world.request({ method: 'GET', url: '/v1/info' })).json.fees, { targetBlocks: 6, bumpBlocks: 3, estimate: 12.5 }, 'SPEC §7: the current estimate');
  world.tip = null;
  t.is((await world.request({ method: 'GET', url: '/v1/info' })).json.tip, null);
});

test('GET /v1/info reports the configured fee target and bump (SPEC §7)', async (t) => {
  const world = await withWorld(t, { args: ['--fee-target', '2', '--fee-bump-blocks', '1'] });
  t.deepEqual((await world.request({ method: 'GET', url: '/v1/info' })).json.fees, { targetBlocks: 2, bumpBlocks: 1, estimate: null });
});

test('POST /v1/transactions: 201 with id, token and a receipt that verifies', async (t) => {
  const world = await withWorld(t);
  const sealed = sealedHex(world);
  const res = await post(world, { locktime: 850000, sealed });
  t.is(res.status, 201);
  const digest = createHash('sha256').update(Buffer.from(sealed, 'hex')).digest();
  t.is(res.json.id, digest.subarray(0, 16).toString('hex'));
  t.regex(res.json.token, /^[0-9a-f]{64}$/);
  t.like(res.json, { status: 'pending', locktime: 850000, locktimeType: 'height' });
  t.regex(res.json.receipt, /^[0-9a-f]{128}$/);
  const info = (await world.request({ method: 'GET', url: '/v1/info' })).json;
  t.true(verifyReceipt(info.receipts.publicKey, res.json.receipt, res.json.id, 850000, digest.toString('hex')));
  t.false(verifyReceipt(info.receipts.publicKey, res.json.receipt, res.json.id, 850001, digest.toString('hex')));
});

test('POST: a 201 is on disk — another connection to the database file sees it', async (t) => {
  const world = await withWorld(t);
  const res = await post(world, { locktime: 1718000000, sealed: sealedHex(world), window: 600 });
  t.is(res.status, 201);
  t.is(res.json.locktimeType, 'time');
  const other = await Store.open(join(world.dir, 'data'), { maxPending: 10 });
  t.teardown(() => other.close());
  const record = await other.get(res.json.id);
  t.is(record?.locktime, 1718000000);
  t.is(record?.window, 600);
  t.is(record?.state, State.Pending);
});

test('POST: resubmitting the same blob is a safe retry — 200, same id and token', async (t) => {
  const world = await withWorld(t);
  const sealed = sealedHex(world);
  const first = await post(world, { locktime: 5, sealed });
  const again = await post(world, { locktime: 5, sealed });
  t.is(first.status, 201);
  t.is(again.status, 200);
  t.deepEqual(again.json, first.json);
});

test('POST: concurrent submissions of one blob store it once and agree on id and token', async (t) => {
  const world = await withWorld(t);
  const sealed = sealedHex(world);
  const answers = await Promise.all(Array.from({ length: 8 }, () => post(world, { locktime: 7, sealed })));
  t.is(answers.filter((a) => a.status === 201).length, 1);
  t.is(answers.filter((a) => a.status === 200).length, 7);
  t.is(new Set(answers.map((a) => a.json.token)).size, 1);
  t.is(world.store.pendingCount, 1);
});

test('POST: keyId selects an older key after rotation', async (t) => {
  const world = await withWorld(t, { rotations: 1 });
  const [older, current] = world.keys.all();
  t.is((await world.request({ method: 'GET', url: '/v1/info' })).json.sealing.keyId, current!.keyId, 'the rotated key is the one offered');
  t.not(older!.keyId, current!.keyId);
  const sealedToOlder = Buffer.from(seal(older!.publicKey, nacl.randomBytes(512))).toString('hex');
  const res = await post(world, { locktime: 1, sealed: sealedToOlder, keyId: older!.keyId });
  t.is(res.status, 201);
  t.is((await world.store.get(res.json.id))?.keyId, older!.keyId, 'the record will be opened with the key it names');
  const unnamed = await post(world, { locktime: 1, sealed: sealedHex(world) });
  t.is((await world.store.get(unnamed.json.id))?.keyId, current!.keyId, 'without keyId, the current key');
});

const BAD_REQUESTS: Array<[string, unknown, string]> = [
  ['locktime missing', { sealed: 'SEALED' }, 'invalid_locktime'],
  ['locktime negative', { locktime: -1, sealed: 'SEALED' }, 'invalid_locktime'],
  ['locktime above uint32', { locktime: 4294967296, sealed: 'SEALED' }, 'invalid_locktime'],
  ['locktime fractional', { locktime: 1.5, sealed: 'SEALED' }, 'invalid_locktime'],
  ['locktime as a string', { locktime: '850000', sealed: 'SEALED' }, 'invalid_locktime'],
  ['sealed missing', { locktime: 1 }, 'invalid_sealed'],
  ['sealed not hex', { locktime: 1, sealed: 'zz'.repeat(300) }, 'invalid_sealed'],
  ['sealed odd length', { locktime: 1, sealed: 'abc' }, 'invalid_sealed'],
  ['sealed too short to hold a transaction', { locktime: 1, sealed: 'ab'.repeat(100) }, 'invalid_sealed'],
  ['window negative', { locktime: 1, sealed: 'SEALED', window: -1 }, 'invalid_window'],
  ['window beyond maxWindowSeconds', { locktime: 1, sealed: 'SEALED', window: 86401 }, 'invalid_window'],
  ['window fractional', { locktime: 1, sealed: 'SEALED', window: 0.5 }, 'invalid_window'],
  ['keyId of nobody', { locktime: 1, sealed: 'SEALED', keyId: '0123456789abcdef' }, 'unknown_key'],
  ['keyId malformed', { locktime: 1, sealed: 'SEALED', keyId: 'xyz' }, 'unknown_key'],
  ['time locktime beyond five years', { locktime: 1718000000 + 6 * 31_557_600, sealed: 'SEALED' }, 'locktime_too_far'],
  ['a JSON array', [1, 2], 'invalid_json'],
  ['JSON null', null, 'invalid_json'],
];

for (const [description, body, code] of BAD_REQUESTS) {
  test(`POST: 400 ${code} — ${description}`, async (t) => {
    const world = await withWorld(t);
    const payload = JSON.stringify(body).replace('"SEALED"', JSON.stringify(sealedHex(world)));
    const res = await world.request({ method: 'POST', url: '/v1/transactions', payload, headers: { 'content-type': 'application/json' } });
    t.is(res.status, 400);
    t.is(res.json.error.code, code);
    t.true(res.json.error.message.length > 0);
    t.is(world.store.pendingCount, 0);
  });
}

test('POST: 400 locktime_too_far for a height beyond five years of blocks past the tip', async (t) => {
  const world = await withWorld(t);
  world.tip = { height: 850000, hash: '00'.repeat(32), medianTime: 1718000000 };
  const near = await post(world, { locktime: 850000 + 5 * 52_560, sealed: sealedHex(world) });
  const far = await post(world, { locktime: 850001 + 5 * 52_560, sealed: sealedHex(world) });
  t.is(near.status, 201);
  t.is(far.status, 400);
  t.is(far.json.error.code, 'locktime_too_far');
});

test('POST: 400 invalid_json for a body that is not JSON', async (t) => {
  const world = await withWorld(t);
  const res = await world.request({ method: 'POST', url: '/v1/transactions', payload: '{"locktime": 1,', headers: { 'content-type': 'application/json' } });
  t.is(res.status, 400);
  t.is(res.json.error.code, 'invalid_json');
});

test('POST: 415 unsupported_media_type without application/json', async (t) => {
  const world = await withWorld(t);
  const res = await world.request({ method: 'POST', url: '/v1/transactions', payload: JSON.stringify({ locktime: 1, sealed: sealedHex(world) }), headers: { 'content-type': 'text/plain' } });
  t.is(res.status, 415);
  t.is(res.json.error.code, 'unsupported_media_type');
});

test('POST: 413 payload_too_large for a sealed blob over maxSealedBytes', async (t) => {
  const world = await withWorld(t, { maxSealedBytes: 2048 });
  const ok = await post(world, { locktime: 1, sealed: sealedHex(world, 2048 - 48) });
  const big = await post(world, { locktime: 1, sealed: sealedHex(world, 2048 - 47) });
  t.is(ok.status, 201);
  t.is(big.status, 413);
  t.is(big.json.error.code, 'payload_too_large');
});

test('POST: 413 payload_too_large for a body over the limit, before parsing it', async (t) => {
  const world = await withWorld(t, { maxSealedBytes: 2048 });
  const res = await world.request({ method: 'POST', url: '/v1/transactions', payload: '{' + ' '.repeat(20_000), headers: { 'content-type': 'application/json' } });
  t.is(res.status, 413);
  t.is(res.json.error.code, 'payload_too_large');
  t.is((await world.request({ method: 'GET', url: '/v1/info' })).status, 200);
});

test('POST: 503 store_full above the configured number of pending records', async (t) => {
  const world = await withWorld(t, { maxPending: 2 });
  t.is((await post(world, { locktime: 1, sealed: sealedHex(world) })).status, 201);
  t.is((await post(world, { locktime: 1, sealed: sealedHex(world) })).status, 201);
  const full = await post(world, { locktime: 1, sealed: sealedHex(world) });
  t.is(full.status, 503);
  t.is(full.json.error.code, 'store_full');
});

test('POST: 503 unavailable when the store cannot commit', async (t) => {
  const world = await withWorld(t);
  const sealed = sealedHex(world);
  await world.store.close();
  const res = await post(world, { locktime: 1, sealed });
  t.is(res.status, 503);
  t.is(res.json.error.code, 'unavailable');
});

test('GET /v1/transactions/:id: 200 with the record; 404 for unknown or malformed ids', async (t) => {
  const world = await withWorld(t);
  const { json } = await post(world, { locktime: 1718000000, sealed: sealedHex(world) });
  const res = await world.request({ method: 'GET', url: `/v1/transactions/${json.id}` });
  t.is(res.status, 200);
  t.deepEqual(res.json, { id: json.id, status: 'pending', locktime: 1718000000, locktimeType: 'time' });
  for (const id of ['00'.repeat(16), 'nothex', json.id.toUpperCase()]) {
    const missing = await world.request({ method: 'GET', url: `/v1/transactions/${id}` });
    t.is(missing.status, 404);
    t.is(missing.json.error.code, 'not_found');
  }
});

test('GET: a finished record shows txid, broadcastAt, confirmations or its error', async (t) => {
  const world = await withWorld(t);
  const a = (await post(world, { locktime: 1, sealed: sealedHex(world) })).json;
  const b = (await post(world, { locktime: 1, sealed: sealedHex(world) })).json;
  const txid = 'cd'.repeat(32);
  await world.store.transition([
    { id: a.id, from: [State.Pending], to: State.Broadcast, wake: 0, txid, broadcastAt: 1718000100, confirmations: 2 },
    { id: b.id, from: [State.Pending], to: State.Invalid, wake: 0, wipe: true, errorCode: 'locktime_mismatch' },
  ]);
  t.like((await world.request({ method: 'GET', url: `/v1/transactions/${a.id}` })).json, { status: 'broadcast', txid, broadcastAt: 1718000100, confirmations: 2 });
  const invalid = (await world.request({ method: 'GET', url: `/v1/transactions/${b.id}` })).json;
  t.is(invalid.status, 'invalid');
  t.is(invalid.error.code, 'locktime_mismatch');
});

test('DELETE: 401 without a token, 403 with a wrong one, 404 unknown, 200 cancelled (twice), blob wiped', async (t) => {
  const world = await withWorld(t);
  const { json } = await post(world, { locktime: 900000, sealed: sealedHex(world) });
  const del = (headers?: Record<string, string>, id = json.id) => world.request({ method: 'DELETE', url: `/v1/transactions/${id}`, ...(headers ? { headers } : {}) });
  t.is((await del()).json.error.code, 'unauthorized');
  t.is((await del()).status, 401);
  t.is((await del({ authorization: 'Basic abc' })).status, 401);
  const wrong = await del({ authorization: `Bearer ${'00'.repeat(32)}` });
  t.is(wrong.status, 403);
  t.is(wrong.json.error.code, 'forbidden');
  const unknown = await del({ authorization: `Bearer ${json.token}` }, 'ab'.repeat(16));
  t.is(unknown.status, 404);
  t.is(unknown.json.error.code, 'not_found');
  const ok = await del({ authorization: `Bearer ${json.token}` });
  t.is(ok.status, 200);
  t.deepEqual(ok.json, { id: json.id, status: 'cancelled' });
  t.is((await del({ authorization: `Bearer ${json.token}` })).status, 200);
  const record = await world.store.get(json.id);
  t.is(record?.sealed, null);
  t.is((await world.request({ method: 'GET', url: `/v1/transactions/${json.id}` })).json.status, 'cancelled');
  t.is(world.store.pendingCount, 0);
});

test('DELETE: 409 already_broadcast once the transaction has left the server', async (t) => {
  const world = await withWorld(t);
  const { json } = await post(world, { locktime: 1, sealed: sealedHex(world) });
  await world.store.transition([{ id: json.id, from: [State.Pending], to: State.Broadcasting, wake: 0, txid: 'ef'.repeat(32) }]);
  const res = await world.request({ method: 'DELETE', url: `/v1/transactions/${json.id}`, headers: { authorization: `Bearer ${json.token}` } });
  t.is(res.status, 409);
  t.is(res.json.error.code, 'already_broadcast');
});

test('unknown path: 404 not_found; known path, wrong method: 405 method_not_allowed', async (t) => {
  const world = await withWorld(t);
  const missing = await world.request({ method: 'GET', url: '/v2/whatever' });
  t.is(missing.status, 404);
  t.is(missing.json.error.code, 'not_found');
  for (const [method, url] of [['POST', '/v1/info'], ['PUT', '/v1/transactions'], ['GET', '/v1/transactions'], ['PATCH', `/v1/transactions/${'ab'.repeat(16)}`]] as const) {
    const res = await world.request({ method, url });
    t.is(res.status, 405, `${method} ${url}`);
    t.is(res.json.error.code, 'method_not_allowed');
  }
});
