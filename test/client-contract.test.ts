// The client side of the wire contract: every answer is held to its schema (src/wire), so a shape
// the SPEC does not allow is a BadResponseError and an error body is a ServerError with its SPEC
// code; one type guard per error class, true also for another copy of the library's errors.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  RelayStoreClient,
  RelayStoreError,
  ServerError,
  UnreachableError,
  BadTransactionError,
  BadResponseError,
  BadReceiptError,
  KeyMismatchError,
  NotEnoughAcceptancesError,
  StampTooHardError,
  isRelayStoreError,
  isServerError,
  isUnreachableError,
  isBadTransactionError,
  isBadBundleError,
  isBadResponseError,
  isBadReceiptError,
  isKeyMismatchError,
  isNotEnoughAcceptancesError,
  isStampTooHardError,
  type GroupSubmission,
  type RelayStoreClientOptions,
} from '../src/index.js';
import { BadBundleError } from '../src/client/errors/bad-bundle-error.js';
import { keyIdOf } from '../src/keys/keyring.js';
import { makeTx } from './support/txs.js';

const ID = 'ab'.repeat(16);
const PUBLIC_KEY = 'cd'.repeat(32);
const INFO = {
  name: 'relaystore',
  version: '1.0.0',
  network: 'regtest',
  sealing: { scheme: 'curve25519-xsalsa20-poly1305-sealedbox', publicKey: PUBLIC_KEY, keyId: keyIdOf(Buffer.from(PUBLIC_KEY, 'hex')) },
  receipts: { scheme: 'ed25519', publicKey: 'ef'.repeat(32) },
  tip: null,
  limits: { maxSealedBytes: 102400, maxWindowSeconds: 86400, maxRungs: 16, maxTxPerRung: 25 },
  onion: null,
  fees: { targetBlocks: 6, bumpBlocks: 3, estimate: null },
};
const STATUS = { id: ID, status: 'pending', locktime: 1, locktimeType: 'height' };

/** A loopback server that answers one canned [status, body] per request line. */
async function cannedServer(
  t: { teardown(fn: () => unknown): void },
  answers: Record<string, [number, unknown]>,
  options: Partial<RelayStoreClientOptions> = {},
  seen: string[] = [],
): Promise<RelayStoreClient> {
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const [status, body] = answers[`${req.method} ${req.url}`] ?? [404, { error: { code: 'not_found', message: 'no route' } }];
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return new RelayStoreClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, socks: null, retries: 0, ...options });
}

const BAD_ANSWERS: Array<[string, string, [number, unknown], (c: RelayStoreClient) => Promise<unknown>]> = [
  ['info without a keyId', 'GET /v1/info', [200, { ...INFO, sealing: { ...INFO.sealing, keyId: undefined } }], (c) => c.info()],
  ['info with a network the SPEC does not name', 'GET /v1/info', [200, { ...INFO, network: 'mainnet' }], (c) => c.info()],
  ['a refusal with a code outside the SPEC', `GET /v1/transactions/${ID}`, [400, { error: { code: 'teapot', message: 'short and stout' } }], (c) => c.status(ID)],
  ['an error answer without the error body', `GET /v1/transactions/${ID}`, [500, { message: 'oops' }], (c) => c.status(ID)],
  ['a status the SPEC does not have', `GET /v1/transactions/${ID}`, [200, { ...STATUS, status: 'lost' }], (c) => c.status(ID)],
  ['the status of another record', `GET /v1/transactions/${ID}`, [200, { ...STATUS, id: '00'.repeat(16) }], (c) => c.status(ID)],
  ['a record error code outside the SPEC', `GET /v1/transactions/${ID}`, [200, { ...STATUS, status: 'invalid', error: { code: 'gremlins', message: 'm' } }], (c) => c.status(ID)],
  ['a cancellation answered as pending', `DELETE /v1/transactions/${ID}`, [200, { id: ID, status: 'pending' }], (c) => c.cancel(ID, '00'.repeat(32))],
];

for (const [description, line, answer, call] of BAD_ANSWERS) {
  test(`BadResponseError for ${description}`, async (t) => {
    const client = await cannedServer(t, { [line]: answer });
    const err = await t.throwsAsync(call(client), { instanceOf: BadResponseError });
    t.true(isBadResponseError(err) && !isServerError(err));
  });
}

test('a SPEC error body is a ServerError carrying its status and code; SPEC answers pass as they are, §7 fields included', async (t) => {
  const bundle = { ...STATUS, status: 'broadcast', txid: '12'.repeat(32), rungs: 3, rung: 1, feeRate: 12.5, txids: ['34'.repeat(32), '12'.repeat(32)] };
  const client = await cannedServer(t, {
    [`DELETE /v1/transactions/${ID}`]: [403, { error: { code: 'forbidden', message: 'the token does not match this transaction' } }],
    [`GET /v1/transactions/${ID}`]: [200, bundle],
    'GET /v1/info': [200, { ...INFO, admission: { bits: 0, storeFull: 0.12 } }],
  });
  const err = await t.throwsAsync(client.cancel(ID, '00'.repeat(32)), { instanceOf: ServerError });
  t.true(isServerError(err));
  t.is(err?.status, 403);
  t.is(err?.code, 'forbidden');
  t.deepEqual(await client.status(ID), bundle);
  t.deepEqual((await client.info()).admission, { bits: 0, storeFull: 0.12 });
});

// SPEC §8 stamps from a hostile or broken server: more bits than the cap are refused before any search.
const searched: Partial<RelayStoreClientOptions> = {
  onStampProgress: () => {
    throw new Error('the client began a search');
  },
};
const busy = (bits: number) => ({ ...INFO, admission: { bits, storeFull: 1 } });

test('a server whose /v1/info asks for more stamp bits than the default cap (32) gets a StampTooHardError naming both, and nothing is searched or sent', async (t) => {
  const seen: string[] = [];
  const client = await cannedServer(t, { 'GET /v1/info': [200, busy(60)] }, searched, seen);
  const err = await t.throwsAsync(client.submit(makeTx({ locktime: 900_000 }).hex), { instanceOf: StampTooHardError });
  t.true(isStampTooHardError(err) && isRelayStoreError(err));
  t.true(err!.bits >= 60, String(err!.bits));
  t.is(err!.maxBits, 32);
  t.true(err!.message.includes(`${err!.bits} bits, more than the 32 bits`), err!.message);
  t.deepEqual(seen, ['GET /v1/info']);
});

test('a stamp_required refusal asking for more than maxStampBits gets a StampTooHardError before any search', async (t) => {
  const refusal = { error: { code: 'stamp_required', message: 'the store is filling up: this submission needs a stamp of 40 bits (SPEC §8); none was given' } };
  const client = await cannedServer(t, { 'GET /v1/info': [200, busy(0)], 'POST /v1/transactions': [400, refusal] }, { ...searched, maxStampBits: 20 });
  const err = await t.throwsAsync(client.submit(makeTx({ locktime: 900_000 }).hex), { instanceOf: StampTooHardError });
  t.is(err!.bits, 40);
  t.is(err!.maxBits, 20);
});

test('maxStampBits is a whole number of bits from 0 to 256', (t) => {
  for (const maxStampBits of [-1, 1.5, 257, Number.NaN]) {
    t.throws(() => new RelayStoreClient({ server: 'http://127.0.0.1:1', socks: null, maxStampBits }), { instanceOf: TypeError }, String(maxStampBits));
  }
  t.notThrows(() => new RelayStoreClient({ server: 'http://127.0.0.1:1', socks: null, maxStampBits: 0 }));
});

const group = { members: [], outcomes: [] } as unknown as GroupSubmission;
const GUARDS = { isRelayStoreError, isServerError, isUnreachableError, isBadTransactionError, isBadBundleError, isBadResponseError, isBadReceiptError, isKeyMismatchError, isNotEnoughAcceptancesError, isStampTooHardError };

/** Each error, and the guards that must say yes to it (its own, its parents'). */
const ERRORS: Array<[RelayStoreError, Array<keyof typeof GUARDS>]> = [
  [new ServerError(403, 'forbidden', 'm'), ['isServerError']],
  [new UnreachableError('x.onion', 'timeout'), ['isUnreachableError']],
  [new BadTransactionError('m'), ['isBadTransactionError']],
  [new BadBundleError('bad_bundle', 'm'), ['isBadBundleError', 'isBadTransactionError']],
  [new BadResponseError('m'), ['isBadResponseError']],
  [new BadReceiptError(ID), ['isBadReceiptError']],
  [new KeyMismatchError('a', 'b'), ['isKeyMismatchError']],
  [new NotEnoughAcceptancesError(group, 2), ['isNotEnoughAcceptancesError']],
  [new StampTooHardError(60, 32), ['isStampTooHardError']],
];

const saidYes = (error: unknown) => Object.entries(GUARDS).filter(([, is]) => is(error)).map(([name]) => name).sort();

test('one type guard per error class: yes for the class and its parents, no for the rest', (t) => {
  for (const [error, guards] of ERRORS) t.deepEqual(saidYes(error), [...guards, 'isRelayStoreError'].sort(), error.name);
  t.deepEqual(saidYes(new RelayStoreError('m')), ['isRelayStoreError']);
  for (const other of [new Error('m'), new TypeError('m'), null, undefined, 'ServerError', { name: 'Error' }]) t.deepEqual(saidYes(other), []);
});

test('the guards know an error of another copy of the library by its name', (t) => {
  for (const [error, guards] of ERRORS) {
    const foreign = Object.assign(new Error(error.message), { name: error.name });
    t.false(foreign instanceof RelayStoreError);
    t.deepEqual(saidYes(foreign), [...guards, 'isRelayStoreError'].sort(), error.name);
  }
});
