// SPEC §5 and §7: explorers' answers to POST /tx and to a package, classified from the exact
// strings and shapes they send (fixture tables), plus properties for arbitrary answers.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { classifyBroadcast } from '../src/chain/esplora-errors.js';
import { classifyPackage } from '../src/chain/package-answer.js';
import { fixture } from './support/fixtures.js';

interface AnswerCase {
  description: string;
  status: number;
  body: string;
  kind: string;
}
const single = fixture<{ cases: AnswerCase[] }>('esplora-errors.json').cases;
const packages = fixture<{ cases: AnswerCase[] }>('package-answers.json').cases;

for (const c of single) {
  test(`POST /tx → ${c.kind}: ${c.description}`, (t) => {
    t.is(classifyBroadcast(c.status, c.body).kind as string, c.kind);
  });
}

for (const c of packages) {
  test(`package → ${c.kind}: ${c.description}`, (t) => {
    t.is(classifyPackage(c.status, c.body).kind as string, c.kind);
  });
}

test('an HTTP 400 answer to a package is classified exactly like the same answer to POST /tx', (t) => {
  for (const c of single.filter((s) => s.status === 400)) t.deepEqual(classifyPackage(c.status, c.body), classifyBroadcast(c.status, c.body), c.description);
});

const KINDS = ['accepted', 'already_known', 'non_final', 'fee_too_low', 'missing_or_spent', 'invalid', 'retry'];
const REASONS = ['min relay fee not met, 0 < 110', 'bad-txns-inputs-missingorspent', 'non-final', 'txn-already-known', 'package-not-validated', 'mandatory-script-verify-flag-failed (x)'];
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const entry = fc.oneof(
  fc.record({ txid: hex64, vsize: fc.nat(), fees: fc.record({ base: fc.double({ min: 0, max: 1, noNaN: true }) }) }),
  fc.record({ txid: hex64, error: fc.oneof(fc.constantFrom(...REASONS), fc.string()) }),
);
const result = fc.record({
  package_msg: fc.oneof(fc.constantFrom('success', 'transaction failed', 'package-fee-too-low'), fc.string()),
  'tx-results': fc.dictionary(hex64, entry, { maxKeys: 25 }),
});

testProp('any answer at all is classified into a known kind, never thrown on', [fc.integer({ min: 100, max: 599 }), fc.oneof(fc.string(), fc.json(), result.map((r) => JSON.stringify(r)))], (t, status, body) => {
  t.true(KINDS.includes(classifyPackage(status, body).kind));
  t.true(KINDS.includes(classifyBroadcast(status, body).kind));
});

testProp('"success" is accepted whatever the entries say', [result], (t, r) => {
  t.is(classifyPackage(200, JSON.stringify({ ...r, package_msg: 'success' })).kind, 'accepted');
});

testProp('the order of tx-results entries does not change the answer', [result], (t, r) => {
  const reversed = Object.fromEntries(Object.entries(r['tx-results']).reverse());
  t.deepEqual(classifyPackage(200, JSON.stringify({ ...r, 'tx-results': reversed })).kind, classifyPackage(200, JSON.stringify(r)).kind);
});

testProp('a failed package with a fee refusal and nothing worse is refused for its fee', [fc.array(fc.constantFrom('min relay fee not met, 0 < 110', 'mempool min fee not met, 5 < 9', 'package-not-validated'), { minLength: 1, maxLength: 25 })], (t, errors) => {
  fc.pre(errors.some((e) => e !== 'package-not-validated'));
  const results = Object.fromEntries(errors.map((error, i) => [String(i).padStart(64, '0'), { txid: String(i).padStart(64, '0'), error }]));
  t.is(classifyPackage(200, JSON.stringify({ package_msg: 'transaction failed', 'tx-results': results })).kind, 'fee_too_low');
});
