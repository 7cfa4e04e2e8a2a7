// SPEC §5 and §7: explorers' answers to POST /tx and to a package, classified from the exact
// strings and shapes they send (fixture tables), plus properties for arbitrary answers.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { classifyBroadcast, parseRpcError } from '../src/chain/esplora-errors.js';
import { classifyPackage } from '../src/chain/package-answer.js';
import { explorerText } from '../src/chain/explorer-text.js';
import { fixture } from './support/fixtures.js';
import { runs } from './support/fuzz.js';

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

// Fixture rows embedded in other text, where the rules say the text around them does not count.
const rpcRows = single.filter((c) => c.status === 400 && !c.body.startsWith('{') && /RPC error: \{.*\}$/s.test(c.body));
const rpcMessageRows = rpcRows.filter((c) => typeof JSON.parse(c.body.slice(c.body.indexOf('{'))).message === 'string');
const whitespace = fc.string({ unit: fc.constantFrom(' ', '\n', '\t', '\r'), maxLength: 4 });
/** Text that cannot spell any reason the classifier looks for (no 'n', 's', 'u', 'm', '-', ...), as Core's debug details are. */
const details = fc.string({ unit: fc.constantFrom(...'0123456789abcdef .,:;<>=()/BTCkv'), maxLength: 80 });

testProp('any status and body: a known kind, never thrown on (POST /tx and package, with RPC-shaped bodies)', [fc.integer({ min: 100, max: 599 }), fc.oneof(
  fc.tuple(fc.constantFrom('sendrawtransaction', 'submitpackage', ''), fc.record({ code: fc.oneof(fc.integer({ min: -30, max: 0 }), fc.jsonValue()), message: fc.oneof(fc.constantFrom(...REASONS), fc.jsonValue()) }, { requiredKeys: [] }), whitespace).map(([rpc, err, ws]) => `${rpc} RPC error: ${JSON.stringify(err)}${ws}`),
  fc.string().map((text) => JSON.stringify({ error: text })),
  fc.string({ unit: fc.constantFrom('RPC error', ':', ' ', '{', '}', '"code":-26', ',', '"message":"non-final"', 'x') }),
)], (t, status, body) => {
  t.true(KINDS.includes(classifyBroadcast(status, body).kind));
  t.true(KINDS.includes(classifyPackage(status, body).kind));
}, runs(300));

testProp('the status alone decides a 2xx (accepted) and a 5xx, 429 or 408 (retry); any other status than 200 answers a package as POST /tx', [fc.integer({ min: 100, max: 599 }), fc.string()], (t, status, body) => {
  const kind = classifyBroadcast(status, body).kind;
  if (status >= 200 && status < 300) t.is(kind, 'accepted');
  if (status >= 500 || status === 429 || status === 408) t.is(kind, 'retry');
  if (status !== 200) t.deepEqual(classifyPackage(status, body), classifyBroadcast(status, body));
}, runs(200));

testProp('an RPC error is read from the JSON at the end of the answer, whatever text comes before it or blank after', [fc.constantFrom(...rpcRows), fc.string(), whitespace], (t, row, before, after) => {
  fc.pre(!before.includes('RPC error'));
  t.is(classifyBroadcast(400, before + row.body + after).kind as string, row.kind, row.description);
}, runs(200));

testProp('a reason followed by Core-style details (", 100 < 141", a txid) keeps its kind', [fc.constantFrom(...rpcMessageRows), details], (t, row, more) => {
  const err = JSON.parse(row.body.slice(row.body.indexOf('{'))) as { code: number; message: string };
  const body = `${row.body.slice(0, row.body.indexOf('{'))}${JSON.stringify({ ...err, message: `${err.message}, ${more}` })}`;
  t.is(classifyBroadcast(400, body).kind as string, row.kind, row.description);
}, runs(200));

testProp('mempool.space\'s {"error": text} wrapping, blank around the text, answers as the bare text', [fc.constantFrom(...single.filter((c) => c.status === 400 && !c.body.startsWith('{'))), whitespace, whitespace], (t, row, before, after) => {
  t.deepEqual(classifyBroadcast(400, JSON.stringify({ error: before + row.body + after })), classifyBroadcast(400, row.body), row.description);
}, runs(100));

testProp('one failing entry among accepted ones: a failed package answers as that reason would to POST /tx (already known counts as accepted)', [fc.constantFrom(...rpcMessageRows.filter((c) => c.body.includes('"code":-26'))), fc.nat({ max: 24 }), fc.nat()], (t, row, accepted, at) => {
  const error = (JSON.parse(row.body.slice(row.body.indexOf('{'))) as { message: string }).message;
  const entries: object[] = Array.from({ length: accepted }, (_, i) => ({ txid: String(i).padStart(64, '0'), vsize: 100 }));
  entries.splice(at % (accepted + 1), 0, { txid: 'f'.repeat(64), error });
  const results = Object.fromEntries(entries.map((e, i) => [String(i).padStart(64, 'a'), e]));
  const expected = row.kind === 'already_known' ? 'accepted' : row.kind;
  t.is(classifyPackage(200, JSON.stringify({ package_msg: "transaction failed", "tx-results": results })).kind as string, expected, row.description);
}, runs(100));

/**
 * The rule as it was first written, one regex; parseRpcError must find the same JSON without its
 * backtracking. What it finds is then explorer text, scrubbed as everywhere (explorer-text.ts).
 */
const REFERENCE_RE = /RPC error:?\s*(\{.*\})\s*$/s;
function referenceParse(body: string) {
  let text = body.trim();
  try {
    const wrapped = text.startsWith('{') ? (JSON.parse(text) as { error?: unknown }) : null;
    if (typeof wrapped?.error === 'string') text = wrapped.error.trim();
  } catch {
    // not JSON: the text as it is
  }
  const match = REFERENCE_RE.exec(text);
  try {
    const parsed = match ? (JSON.parse(match[1]!) as { code?: unknown; message?: unknown }) : null;
    if (parsed) return { code: typeof parsed.code === 'number' ? parsed.code : null, message: explorerText(String(parsed.message ?? '')) };
  } catch {
    // not JSON after all
  }
  return { code: null, message: explorerText(text) };
}

/** Answers built of RPC-error-looking pieces: several "RPC error" marks, JSON objects, stray braces, blanks, a wrapping. */
const rpcPieces = fc
  .array(
    fc.oneof(
      // No control characters inside: what the rule finds is compared, not how text is cleaned for logs.
      fc.constantFrom('RPC error', ':', ' ', '\u00a0', '{', '}', ',', 'a'),
      fc.tuple(fc.constantFrom('RPC error', 'RPC error:', 'RPC error: ', 'RPC error:\u00a0 '), fc.record({ code: fc.integer({ min: -27, max: -20 }), message: fc.constantFrom('non-final', 'x}', 'RPC error: {}') }, { requiredKeys: [] })).map(([mark, err]) => mark + JSON.stringify(err)),
    ),
    { maxLength: 8 },
  )
  .chain((pieces) => fc.tuple(fc.constant(pieces.join('')), whitespace, fc.boolean()))
  .map(([text, ws, wrap]) => (wrap ? JSON.stringify({ error: text + ws }) : text + ws));

testProp('parseRpcError finds what the one-regex rule found, on any text made of its pieces', [rpcPieces], (t, body) => {
  t.deepEqual(parseRpcError(body), referenceParse(body));
}, runs(500));
