// The wire contract (src/wire): the request schema answers each field's failure with its SPEC code
// (test/fixtures/submit-requests.json), and GET /v1/openapi.json documents every route and code.
import test, { type ExecutionContext } from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { submitRequestChecker } from '../src/wire/submit-request.js';
import { ErrorCode } from '../src/wire/vocabulary.js';
import { fixture, expand, type FieldRows, type SubmitFixtures } from './support/fixtures.js';
import { makeWorld, type World } from './support/world.js';
import { contractProblems, type Exchange, type OpenApi } from './support/contract.js';

const table = fixture<SubmitFixtures>('submit-requests.json');
const check = submitRequestChecker(table.limits);

/** A body whose required fields hold their first valid value. */
const validBody = () => Object.fromEntries(table.fields.filter((f) => f.missing).map((f) => [f.name, expand(f.valid[0])]));

for (const row of table.notAnObject) {
  test(`request: ${row.error} for ${row.description}`, (t) => t.like(check(row.body), { ok: false, code: row.error }));
}

for (const field of table.fields) {
  test(`request: ${field.name} accepts ${field.valid.length} valid values`, (t) => {
    for (const value of field.valid) {
      const body = { ...validBody(), [field.name]: expand(value) };
      t.deepEqual(check(body), { ok: true, request: body }, JSON.stringify(value).slice(0, 40));
    }
  });
  for (const row of [...field.invalid, ...(field.missing ? [{ description: 'missing', value: undefined, error: field.missing }] : [])]) {
    test(`request: ${field.name} ${row.description} is ${row.error}`, (t) => {
      const result = check({ ...validBody(), [field.name]: expand(row.value) });
      t.like(result, { ok: false, code: row.error });
      t.true(!result.ok && result.message.includes(field.name), 'the message names the field');
    });
  }
}

const pick = (field: FieldRows) =>
  fc.oneof(
    fc.constantFrom(...field.valid.map((v) => ({ value: expand(v), error: null as string | null }))),
    fc.constantFrom(...field.invalid.map((r) => ({ value: expand(r.value), error: r.error as string | null }))),
    fc.constant({ value: undefined as unknown, error: field.missing ?? null }),
  );

testProp('request: a body with several fields wrong gets the error of the first, in SPEC order', [fc.tuple(...table.fields.map(pick))], (t, picks) => {
  const body = Object.fromEntries(picks.flatMap((p, i) => (p.value === undefined ? [] : [[table.fields[i]!.name, p.value]])));
  const expected = picks.find((p) => p.error !== null)?.error;
  if (expected === undefined) t.deepEqual(check(body), { ok: true, request: body });
  else t.like(check(body), { ok: false, code: expected });
});

async function withWorld(t: ExecutionContext): Promise<{ world: World; doc: OpenApi & Record<string, any> }> {
  const world = await makeWorld();
  t.teardown(() => world.close());
  const res = await world.request({ method: 'GET', url: '/v1/openapi.json' });
  t.is(res.status, 200);
  return { world, doc: res.json };
}

/** Every `error.code` enum anywhere in the document. */
function documentedCodes(node: unknown, found = new Set<string>()): Set<string> {
  if (typeof node !== 'object' || node === null) return found;
  // Error bodies only: a record's own optional `error` holds RecordErrorCode.
  const schema = node as { required?: unknown; properties?: { error?: { properties: { code: { enum: string[] } } } } };
  if (Array.isArray(schema.required) && schema.required.includes('error')) schema.properties!.error!.properties.code.enum.forEach((c) => found.add(c));
  Object.values(node).forEach((child) => documentedCodes(child, found));
  return found;
}

test('GET /v1/openapi.json: OpenAPI 3.1 with every route of SPEC §3 and every error code the API answers', async (t) => {
  const { doc } = await withWorld(t);
  t.is(doc.openapi, '3.1.0');
  t.is(doc.info.version, '1.0.0');
  const routes = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item as object).filter((k) => k !== 'parameters').map((m) => `${m} ${path}`));
  t.deepEqual(routes.sort(), ['delete /v1/transactions/{id}', 'get /v1/info', 'get /v1/openapi.json', 'get /v1/transactions/{id}', 'post /v1/transactions']);
  t.deepEqual([...documentedCodes(doc)].sort(), [...ErrorCode.enum].sort());
  const request = (doc.paths['/v1/transactions'] as any).post.requestBody.content['application/json'].schema;
  t.is(request.properties.window.maximum, 86_400, 'the request schema carries this server\'s limits');
  t.is(request.properties.sealed.maxLength, 2 * 102_400);
});

const INFO_WITHOUT_KEY_ID = { name: 'relaystore', version: '1.0.0', network: 'regtest', sealing: { scheme: 'curve25519-xsalsa20-poly1305-sealedbox', publicKey: 'ab'.repeat(32) }, receipts: { scheme: 'ed25519', publicKey: 'ab'.repeat(32) }, tip: null, limits: { maxSealedBytes: 1, maxWindowSeconds: 0 }, onion: null };
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const error = (code: string) => ({ error: { code, message: 'm' } });

const BROKEN_ANSWERS: Array<[string, Exchange]> = [
  ['info without sealing.keyId', { method: 'GET', url: '/v1/info', status: 200, json: INFO_WITHOUT_KEY_ID, headers: JSON_TYPE }],
  ['a submit refusal with a code that route never gives', { method: 'POST', url: '/v1/transactions', status: 400, json: error('forbidden'), headers: JSON_TYPE }],
  ['an undocumented status', { method: 'POST', url: '/v1/transactions', status: 418, json: error('invalid_json'), headers: JSON_TYPE }],
  ['a status no SPEC has', { method: 'GET', url: `/v1/transactions/${'ab'.repeat(16)}`, status: 200, json: { id: 'ab'.repeat(16), status: 'lost', locktime: 1, locktimeType: 'height' }, headers: JSON_TYPE }],
  ['a 200 on a path no route has', { method: 'GET', url: '/v2/info', status: 200, json: {}, headers: JSON_TYPE }],
  ['a 404 for a method the path does not take', { method: 'PUT', url: '/v1/transactions', status: 404, json: error('not_found'), headers: JSON_TYPE }],
  ['an error body without a message', { method: 'GET', url: `/v1/transactions/${'ab'.repeat(16)}`, status: 404, json: { error: { code: 'not_found' } }, headers: JSON_TYPE }],
  ['HTML instead of JSON', { method: 'DELETE', url: `/v1/transactions/${'ab'.repeat(16)}`, status: 401, json: error('unauthorized'), headers: { 'content-type': 'text/html' } }],
];

test('the contract check refuses answers the document does not allow, and passes real ones', async (t) => {
  const { world, doc } = await withWorld(t);
  for (const [description, exchange] of BROKEN_ANSWERS) t.not(contractProblems(doc, exchange).length, 0, description);
  const info = await world.request({ method: 'GET', url: '/v1/info' });
  t.deepEqual(contractProblems(doc, { method: 'GET', url: '/v1/info', ...info }), []);
  const unknown = await world.request({ method: 'PUT', url: '/v1/transactions' });
  t.deepEqual(contractProblems(doc, { method: 'PUT', url: '/v1/transactions', ...unknown }), []);
});
