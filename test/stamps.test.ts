// SPEC §8 stamps: the fixture table held against the shared check, the server's API and the client's
// search; the rule for how many bits a submission needs and how the fill sets admission.bits.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { checkStamp, requiredBits, solveInSlices, solveStamp, type StampProgress } from '../src/domain/stamp.js';
import { admissionLevel } from '../src/domain/admission.js';
import { fixture, type StampFixtures } from './support/fixtures.js';
import { makeWorld } from './support/world.js';

const f = fixture<StampFixtures>('stamps.json');
const sealedOf = (id: string) => f.blobs.find((b) => b.id === id)!.sealed;

for (const row of f.rows) {
  test(`stamp table, shared check: ${row.note} → ${row.valid ? 'valid' : row.why}`, (t) => {
    t.is<string | undefined, string | undefined>(checkStamp(row), row.valid ? 'valid' : row.why);
  });

  test(`stamp table, server: ${row.note} → ${row.valid ? '201' : '400 stamp_required'}`, async (t) => {
    // The blobs are 560 bytes and the locktimes within a year of the tip: the server asks for exactly row.bits.
    const w = await makeWorld({ level: () => ({ bits: row.bits, storeFull: 0.75 }) });
    t.teardown(() => w.close());
    const res = await w.request({ method: 'POST', url: '/v1/transactions', payload: { locktime: row.locktime, sealed: sealedOf(row.id), stamp: row.nonce } });
    t.is(res.status, row.valid ? 201 : 400, JSON.stringify(res.json));
    if (!row.valid) t.is(res.json.error.code, 'stamp_required');
  });
}

test('the server says how many bits it asks for; without a stamp it is refused, with one it is stored, and a retry of the stored blob needs none', async (t) => {
  const w = await makeWorld({ level: () => ({ bits: 6, storeFull: 0.6 }) });
  t.teardown(() => w.close());
  const blob = f.blobs[0]!;
  const post = (extra: object) => w.request({ method: 'POST', url: '/v1/transactions', payload: { locktime: 849_500, sealed: blob.sealed, ...extra } });
  const bare = await post({});
  t.is(bare.status, 400);
  t.is(bare.json.error.code, 'stamp_required');
  t.regex(bare.json.error.message, /\b6 bits\b/);
  const stamped = await post({ stamp: solveStamp(blob.id, 849_500, 6) });
  t.is(stamped.status, 201);
  const retry = await post({});
  t.is(retry.status, 200);
  t.is(retry.json.token, stamped.json.token);
});

test('a store that is calm asks for no stamp and /v1/info says so', async (t) => {
  const w = await makeWorld();
  t.teardown(() => w.close());
  t.deepEqual((await w.request({ method: 'GET', url: '/v1/info' })).json.admission, { bits: 0, storeFull: 0 });
  const res = await w.request({ method: 'POST', url: '/v1/transactions', payload: { locktime: 849_500, sealed: f.blobs[0]!.sealed } });
  t.is(res.status, 201);
});

testProp(
  'the client\'s search finds stamps the shared check accepts, at the bits asked and not only by luck at fewer',
  [fc.stringMatching(/^[0-9a-f]{32}$/), fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 10 })],
  (t, id, locktime, bits) => {
    const nonce = solveStamp(id, locktime, bits);
    t.is(checkStamp({ bits, id, locktime, nonce }), 'valid');
  },
  { numRuns: 50 },
);

test('the sliced search reports progress with a measured rate and ends with the stamp found', async (t) => {
  const seen: StampProgress[] = [];
  const nonce = await solveInSlices('ab'.repeat(16), 850_000, 12, { sliceMs: 5, onProgress: (p) => seen.push(p) });
  t.is(checkStamp({ bits: 12, id: 'ab'.repeat(16), locktime: 850_000, nonce }), 'valid');
  const last = seen.at(-1)!;
  t.true(last.found);
  t.is(last.expected, 4096);
  t.true(last.hashesPerSecond > 0);
  t.true(seen.slice(0, -1).every((p) => !p.found));
});

test('an aborted search stops', async (t) => {
  const controller = new AbortController();
  const running = solveInSlices('cd'.repeat(16), 850_000, 60, { sliceMs: 5, signal: controller.signal, onProgress: () => controller.abort() });
  // A DOMException, as in a browser: ava's throwsAsync wants an Error, so look at it by hand.
  const thrown = await running.then(() => null, (err: unknown) => err);
  t.is((thrown as { name?: string } | null)?.name, 'AbortError');
});

const TIP = { height: 850_000, hash: '00'.repeat(32), medianTime: 1_718_000_000 };
const REQUIRED: ReadonlyArray<[string, Parameters<typeof requiredBits>[0], number]> = [
  ['calm: nothing, whatever the size and horizon', { admissionBits: 0, sealedBytes: 102_400, locktime: 850_000 + 4 * 52_560, tip: TIP, now: 0 }, 0],
  ['busy, small blob, near locktime', { admissionBits: 3, sealedBytes: 560, locktime: 850_010, tip: TIP, now: 0 }, 3],
  ['1024 bytes add nothing', { admissionBits: 3, sealedBytes: 1024, locktime: 850_010, tip: TIP, now: 0 }, 3],
  ['1025 bytes add one', { admissionBits: 3, sealedBytes: 1025, locktime: 850_010, tip: TIP, now: 0 }, 4],
  ['100 KB add seven (log2 100 = 6.6)', { admissionBits: 3, sealedBytes: 102_400, locktime: 850_010, tip: TIP, now: 0 }, 10],
  ['exactly two years of blocks add one', { admissionBits: 3, sealedBytes: 560, locktime: 850_000 + 2 * 52_560, tip: TIP, now: 0 }, 4],
  ['one block past two years adds two', { admissionBits: 3, sealedBytes: 560, locktime: 850_001 + 2 * 52_560, tip: TIP, now: 0 }, 5],
  ['the fill attack: 100 KB, 4.9 years ahead', { admissionBits: 1, sealedBytes: 102_400, locktime: 850_000 + Math.round(4.9 * 52_560), tip: TIP, now: 0 }, 11],
  ['a past locktime adds nothing', { admissionBits: 3, sealedBytes: 560, locktime: 100, tip: TIP, now: 0 }, 3],
  ['a time locktime counts from the tip\'s median time', { admissionBits: 3, sealedBytes: 560, locktime: 1_718_000_000 + 3 * 31_557_600, tip: TIP, now: 0 }, 5],
  ['without a tip, a time locktime counts from now', { admissionBits: 3, sealedBytes: 560, locktime: 1_718_000_000 + 3 * 31_557_600, tip: null, now: 1_718_000_000 - 31_557_600 }, 5],
];
for (const [what, terms, bits] of REQUIRED) {
  test(`required bits: ${what} → ${bits}`, (t) => t.is(requiredBits(terms), bits));
}

const OPTIONS = { maxStoreBytes: 1000, threshold: 0.5, maxBits: 24 };
const LEVELS: ReadonlyArray<[number, { bits: number; storeFull: number }]> = [
  [0, { bits: 0, storeFull: 0 }],
  [500, { bits: 0, storeFull: 0.5 }],
  [501, { bits: 1, storeFull: 0.5 }],
  [750, { bits: 12, storeFull: 0.75 }],
  [900, { bits: 20, storeFull: 0.9 }],
  [1000, { bits: 24, storeFull: 1 }],
  [4000, { bits: 24, storeFull: 1 }],
  [456, { bits: 0, storeFull: 0.46 }],
];
for (const [stored, level] of LEVELS) {
  test(`admission level: ${stored} of 1000 bytes → ${level.bits} bits, ${level.storeFull} full`, (t) => t.deepEqual(admissionLevel(stored, OPTIONS), level));
}
