// Issue 12 (quiet, safe logs): whatever an explorer writes, no run of hex longer than a txid survives
// into a broadcast outcome's reason, which is what reaches the logs, whole or broken by whitespace.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { explorerText } from '../src/chain/explorer-text.js';
import { classifyBroadcast } from '../src/chain/esplora-errors.js';
import { classifyPackage } from '../src/chain/package-answer.js';
import type { BroadcastAnswer } from '../src/chain/esplora-errors.js';
import { makeTx } from './support/txs.js';
import { fixture } from './support/fixtures.js';

/** The rule, said another way: hex groups apart only by whitespace (or JSON's escaped whitespace) joined, no run over 64. */
const joinHex = (text: string) => text.replace(/(?<=[0-9a-fA-F])(?:\s|\\[nrt])+(?=[0-9a-fA-F])/g, '');
const LONG_HEX = /[0-9a-fA-F]{65,}/;
const hasLongHex = (text: string) => LONG_HEX.test(joinHex(text));
const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
/** A transaction as an explorer may echo it: whole, or broken every 64 characters or fewer by whitespace or JSON's escapes. */
const rawTx = fc.oneof(
  hex(65, 2000),
  fc.tuple(hex(65, 2000), fc.integer({ min: 1, max: 64 }), fc.constantFrom(' ', '\n', '\r\n', '\t', '  \n ', '\\n', '\u0085')).map(([h, every, sep]) =>
    (h.match(new RegExp(`.{1,${every}}`, 'g')) ?? []).join(sep),
  ),
);
/** Prose around a transaction the explorer repeats, as JSON RPC errors, mempool.space's JSON or plain text. */
const echoed = fc.tuple(fc.string({ maxLength: 300 }), rawTx, fc.string({ maxLength: 300 }));
const bodies = (before: string, raw: string, after: string) => [
  `${before}${raw}${after}`,
  `sendrawtransaction RPC error: ${JSON.stringify({ code: -26, message: `${before}${raw}${after}` })}`,
  `sendrawtransaction RPC error: ${JSON.stringify({ code: -25, message: `bad-txns-${before}${raw}` })}`,
  `sendrawtransaction RPC error: {"code":-26,"message":${JSON.stringify(`${before}${raw}${after}`)}`,
  JSON.stringify({ error: `${before}${raw}${after}` }),
];
const reasonOf = (a: BroadcastAnswer) => ('reason' in a ? a.reason : '');

testProp('explorer text never keeps a hex run longer than 64 (whole or broken by whitespace), a control character, or more than 200 characters', [fc.string({ maxLength: 3000 }), echoed], (t, s, [before, raw, after]) => {
  for (const text of [explorerText(s), explorerText(before + raw + after)]) {
    t.false(hasLongHex(text), text);
    t.false(/[\u0000-\u001f\u007f-\u009f]/.test(text));
    t.true(text.length <= 200);
  }
});

testProp('text without long hex runs or control characters, within the bound, is kept as it is', [fc.string({ unit: fc.constantFrom(...'abc xyz:-_0123456789{}"'), maxLength: 200 })], (t, s) => {
  fc.pre(!hasLongHex(s));
  t.is(explorerText(s), s);
});

for (const c of fixture<{ cases: Array<{ description: string; text: string; scrubbed: string }> }>('explorer-text.json').cases) {
  test(`explorer text: ${c.description}`, (t) => t.is(explorerText(c.text), c.scrubbed));
}

testProp('no reason classified from an answer to POST /tx or to a package holds the echoed transaction', [echoed, fc.constantFrom(400, 500)], (t, [before, raw, after], status) => {
  for (const body of bodies(before, raw, after)) {
    t.false(hasLongHex(reasonOf(classifyBroadcast(status, body))), body);
    t.false(hasLongHex(reasonOf(classifyPackage(status, body))), body);
  }
});

testProp('nor a reason from a submitpackage result whose messages repeat it', [echoed], (t, [before, raw, after]) => {
  const result = { package_msg: `${before}${raw}`, 'tx-results': { ['0'.repeat(64)]: { txid: '0'.repeat(64), error: `${raw}${after}` } } };
  t.false(hasLongHex(reasonOf(classifyPackage(200, JSON.stringify(result)))));
});

test('a real transaction echoed in a permanent refusal leaves none of its bytes in the reason', (t) => {
  const tx = makeTx({ locktime: 1 });
  const answer = classifyBroadcast(400, `sendrawtransaction RPC error: ${JSON.stringify({ code: -26, message: `bad-txns-inputs-duplicate, tx ${tx.hex}` })}`);
  t.is(answer.kind, 'invalid');
  t.is(reasonOf(answer), `bad-txns-inputs-duplicate, tx <${tx.hex.length} hex chars removed>`);
});
