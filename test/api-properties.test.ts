// POST /v1/transactions under generated bodies, through the real app (app.callback(), as
// api.test.ts): every answer is a 2xx or a 4xx with a code of the wire contract, never a 5xx, and
// always as /v1/openapi.json says; a retry answers the same body; a valid body with one field
// broken gets that field's code (test/fixtures/submit-requests.json) and stores nothing; while the
// store asks for work, exactly the stamps SPEC §8 accepts are taken.
import test, { type ExecutionContext } from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../src/wire/vocabulary.js';
import { requiredBits, solveStamp } from '../src/domain/stamp.js';
import { makeWorld, type World } from './support/world.js';
import { contractProblems, type OpenApi } from './support/contract.js';
import { expand, fixture, type SubmitFixtures } from './support/fixtures.js';
import { runs } from './support/fuzz.js';

const table = fixture<SubmitFixtures>('submit-requests.json');
// One older key besides the current one: a keyId may name either.
const world = await makeWorld({ maxSealedBytes: table.limits.maxSealedBytes, rotations: 1 });
// A second server whose store asks for `asked` bits (SPEC §8 admission.bits), set by each run.
let asked = 0;
const busy = await makeWorld({ maxSealedBytes: table.limits.maxSealedBytes, level: () => ({ bits: asked, storeFull: 0.75 }) });
busy.tip = world.tip = { height: 850_000, hash: 'ab'.repeat(32), medianTime: 1_718_000_000 };
const doc = (await world.request({ method: 'GET', url: '/v1/openapi.json' })).json as OpenApi;
test.after.always(async () => {
  await world.close();
  await busy.close();
});

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const idOf = (sealed: string) => createHash('sha256').update(Buffer.from(sealed, 'hex')).digest('hex').slice(0, 32);
const keyIds = world.keys.all().map((k) => k.keyId);

/** Locktimes within five years of the world's tip (heights) and clock (times). */
const locktimeArb = fc.oneof(fc.integer({ min: 0, max: 850_000 + 5 * 52_560 }), fc.integer({ min: 500_000_000, max: 1_718_000_000 + 5 * 31_557_600 }));
const sealedArb = fc.uint8Array({ minLength: 108, maxLength: table.limits.maxSealedBytes }).map(hexOf);

interface Body {
  locktime: number;
  sealed: string;
  window?: number;
  keyId?: string;
  stamp?: string;
}
const validBodyArb: fc.Arbitrary<Body> = fc.record(
  {
    locktime: locktimeArb,
    sealed: sealedArb,
    window: fc.integer({ min: 0, max: table.limits.maxWindowSeconds }),
    keyId: fc.constantFrom(...keyIds),
    stamp: fc.uint8Array({ minLength: 8, maxLength: 32 }).map(hexOf),
  },
  { requiredKeys: ['locktime', 'sealed'] },
);

const anyJson = fc.jsonValue({ maxDepth: 2 });
/** Mostly a fitting value, so that bodies reach the later checks; else a near miss or any JSON at all. */
const field = <T>(fitting: fc.Arbitrary<T>, ...others: fc.Arbitrary<unknown>[]) => fc.oneof({ weight: 2 * others.length, arbitrary: fitting }, ...others.map((arbitrary) => ({ weight: 1, arbitrary })));
const fieldArbs = {
  locktime: field(locktimeArb, fc.integer({ min: 0, max: 0xffffffff }), fc.integer(), fc.double(), anyJson),
  sealed: field(sealedArb, fc.uint8Array({ maxLength: table.limits.maxSealedBytes + 8 }).map(hexOf), sealedArb.map((s) => s.toUpperCase()), sealedArb.map((s) => s.slice(1)), fc.string(), anyJson),
  window: field(fc.integer({ min: 0, max: table.limits.maxWindowSeconds }), fc.integer({ min: -2, max: table.limits.maxWindowSeconds + 2 }), fc.double(), anyJson),
  keyId: field(fc.constantFrom(...keyIds), fc.uint8Array({ minLength: 8, maxLength: 8 }).map(hexOf), fc.string(), anyJson),
  stamp: field(fc.uint8Array({ minLength: 8, maxLength: 32 }).map(hexOf), fc.uint8Array({ minLength: 7, maxLength: 33 }).map(hexOf), fc.string(), anyJson),
};
/** Any JSON, or an object of the fields (each maybe left out) with extra keys (__proto__ too) beside them. */
const bodyArb = fc.oneof(
  { weight: 1, arbitrary: anyJson },
  { weight: 4, arbitrary: fc.tuple(fc.record(fieldArbs, { requiredKeys: [] }), fc.dictionary(fc.string(), anyJson, { maxKeys: 3 })).map(([fields, extra]) => ({ ...extra, ...fields })) },
);

/** Posts the text as it is, and holds the answer to what every answer must be. */
async function post(t: ExecutionContext, payload: string, headers: Record<string, string> = { 'content-type': 'application/json' }, to: World = world) {
  const req = { method: 'POST', url: '/v1/transactions', payload, headers };
  const res = await to.request(req);
  t.true(res.status < 500, `${res.status} ${res.text.slice(0, 200)}`);
  t.deepEqual(contractProblems(doc, { ...req, ...res }), [], 'as /v1/openapi.json says');
  if (res.status >= 400) t.true((ErrorCode.enum as readonly string[]).includes(res.json?.error?.code), res.text.slice(0, 200));
  return res;
}

testProp.serial('any JSON body: 201 or 200 for the blob posted, else a 4xx with a contract code; never a 5xx', [bodyArb], async (t, body) => {
  const res = await post(t, JSON.stringify(body));
  if (res.status < 300) t.is(res.json.id, idOf((body as Body).sealed));
}, runs(150));

const contentTypes = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', ''];
testProp.serial('any text under any content type: 400 invalid_json, 415 or a JSON verdict; never a 5xx', [fc.string({ maxLength: 300 }), fc.constantFrom(...contentTypes)], async (t, text, type) => {
  const res = await post(t, text, { 'content-type': type });
  const json = /^application\/json\s*(;|$)/i.test(type);
  if (!json) t.is(res.json.error.code, 'unsupported_media_type');
}, runs(100));

testProp.serial('a retry answers 200 with the same body, also in upper-case hex and declaring other fields', [validBodyArb, locktimeArb, fc.boolean()], async (t, body, otherLocktime, upper) => {
  const stored = (await world.store.get(idOf(body.sealed))) !== undefined;
  const first = await post(t, JSON.stringify(body));
  t.is(first.status, stored ? 200 : 201);
  t.is(first.json.id, idOf(body.sealed));
  const again = await post(t, JSON.stringify(body));
  t.is(again.status, 200);
  t.deepEqual(again.json, first.json);
  const variant = { locktime: otherLocktime, sealed: upper ? body.sealed.toUpperCase() : body.sealed };
  const other = await post(t, JSON.stringify(variant));
  t.is(other.status, 200);
  t.deepEqual(other.json, first.json, 'the stored record answers, whatever the retry declared');
}, runs(40));

const brokenArb = fc.constantFrom(
  ...table.fields.flatMap((f) => [
    ...f.invalid.map((r) => ({ field: f.name, value: expand(r.value), error: r.error, description: r.description })),
    ...(f.missing ? [{ field: f.name, value: undefined, error: f.missing, description: 'missing' }] : []),
  ]),
);

testProp.serial('a valid body with any one field broken gets that field\'s code and stores nothing', [validBodyArb, brokenArb], async (t, body, broken) => {
  const before = world.store.pendingCount;
  const res = await post(t, JSON.stringify({ ...body, [broken.field]: broken.value }));
  t.is(res.json?.error?.code, broken.error, `${broken.field}: ${broken.description}`);
  t.is(world.store.pendingCount, before);
}, runs(100));

/** SPEC §8 read directly: the leading zero bits of SHA-256 of the stamp text. */
function zeroBits(id: string, locktime: number, nonce: string): number {
  const digest = createHash('sha256').update(`relaystore stamp v1\n${id}\n${locktime}\n${nonce}`, 'utf8').digest();
  const first = digest.findIndex((b) => b !== 0);
  return first === -1 ? 256 : 8 * first + Math.clz32(digest[first]!) - 24;
}

testProp.serial('while the store asks for work, a blob is stored exactly when its stamp has the bits asked; a retry of it needs none', [validBodyArb, fc.integer({ min: 1, max: 6 }), fc.constantFrom('none', 'any', 'solved'), fc.uint8Array({ minLength: 8, maxLength: 32 })], async (t, { stamp: _, keyId: __, ...body }, bits, kind, nonce) => {
  asked = bits;
  const id = idOf(body.sealed);
  const need = requiredBits({ admissionBits: bits, sealedBytes: body.sealed.length / 2, locktime: body.locktime, tip: busy.tip, now: busy.now / 1000 });
  const stamp = kind === 'none' ? undefined : kind === 'any' ? hexOf(nonce) : solveStamp(id, body.locktime, need, nonce.subarray(0, 8));
  const stored = (await busy.store.get(id)) !== undefined;
  const res = await post(t, JSON.stringify({ ...body, stamp }), undefined, busy);
  if (stored) return t.is(res.status, 200);
  if (stamp !== undefined && zeroBits(id, body.locktime, stamp) >= need) {
    t.is(res.status, 201, res.text);
    const retry = await post(t, JSON.stringify(body), undefined, busy);
    t.deepEqual([retry.status, retry.json], [200, res.json]);
  } else {
    t.is(res.json?.error?.code, 'stamp_required', res.text);
    t.regex(res.json.error.message, new RegExp(`\\b${need} bits\\b`));
  }
}, runs(60));
