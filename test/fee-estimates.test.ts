// SPEC §7: Esplora's GET /fee-estimates parsed defensively and read at --fee-target (the nearest
// listed target at or below it).
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { estimateAt, parseFeeEstimates } from '../src/chain/fee-estimates.js';

const ESPLORA = '{"1":87.882,"2":87.882,"3":87.882,"4":87.882,"5":81.129,"6":68.285,"7":68.285,"8":68.285,"9":68.285,"10":68.285,"11":68.285,"12":68.285,"13":44.414,"14":44.414,"15":44.414,"16":44.414,"17":44.414,"18":44.414,"19":44.414,"20":44.414,"21":44.414,"22":44.414,"23":44.414,"24":44.414,"25":44.414,"144":1.027,"504":1.027,"1008":1.027}';
const MEMPOOL = '{"warning":"This endpoint is deprecated and will be removed in a future release. Please use /api/v1/fees/precise instead.","1":12,"2":12,"3":9,"4":9,"5":9,"6":7,"25":7,"144":3,"504":3,"1008":1}';

test('Blockstream Esplora\'s answer: every target read', (t) => {
  const e = parseFeeEstimates(ESPLORA)!;
  t.is(e.size, 28);
  t.is(estimateAt(e, 6), 68.285);
  t.is(estimateAt(e, 1), 87.882);
  t.is(estimateAt(e, 100), 44.414, 'nearest listed target below 100 is 25');
  t.is(estimateAt(e, 2000), 1.027);
});

test('mempool.space\'s answer: the warning text beside the targets is skipped', (t) => {
  const e = parseFeeEstimates(MEMPOOL)!;
  t.false([...e.keys()].some((k) => Number.isNaN(k)));
  t.is(estimateAt(e, 6), 7);
  t.is(estimateAt(e, 5), 9);
});

test('no listed target at or below the wanted one: no estimate', (t) => {
  t.is(estimateAt(parseFeeEstimates('{"3":10,"6":5}')!, 2), null);
});

const UNUSABLE: Array<[string, string]> = [
  ['not JSON', 'Service Unavailable'],
  ['an array', '[1,2,3]'],
  ['null', 'null'],
  ['an empty object', '{}'],
  ['only bad entries', '{"0":5,"-1":3,"1.5":2,"abc":1,"6":"7","7":-1,"8":null,"99999":1}'],
];
for (const [description, body] of UNUSABLE) {
  test(`unusable answer: ${description}`, (t) => t.is(parseFeeEstimates(body), null));
}

test('absurd rates and targets are dropped, the sane ones kept', (t) => {
  const e = parseFeeEstimates('{"1":1e300,"2":12.5,"3":1e7,"20000":4}')!;
  t.deepEqual([...e.entries()], [[2, 12.5]]);
});

const target = fc.integer({ min: 1, max: 1008 });
const rate = fc.double({ min: 0, max: 10_000, noNaN: true });

testProp('every sane entry survives parsing unchanged', [fc.dictionary(target.map(String), rate, { minKeys: 1 })], (t, entries) => {
  const parsed = parseFeeEstimates(JSON.stringify(entries))!;
  t.deepEqual(Object.fromEntries([...parsed.entries()].map(([k, v]) => [String(k), v])), entries);
});

testProp('the estimate read is the one at the largest listed target not above the wanted one', [fc.dictionary(target.map(String), rate, { minKeys: 1 }), target], (t, entries, wanted) => {
  const listed = Object.keys(entries).map(Number).filter((k) => k <= wanted);
  const expected = listed.length ? entries[String(Math.max(...listed))]! : null;
  t.is(estimateAt(parseFeeEstimates(JSON.stringify(entries))!, wanted), expected);
});

testProp('any text at all parses to estimates or null, never throws', [fc.oneof(fc.string(), fc.json())], (t, body) => {
  const parsed = parseFeeEstimates(body);
  t.true(parsed === null || parsed.size > 0);
});
