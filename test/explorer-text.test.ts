// Issue 12 (quiet, safe logs): whatever an explorer writes, no hex run longer than a txid survives
// into a broadcast outcome's reason, which is what reaches the logs.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { explorerText } from '../src/chain/explorer-text.js';
import { classifyBroadcast } from '../src/chain/esplora-errors.js';
import { classifyPackage } from '../src/chain/package-answer.js';
import type { BroadcastAnswer } from '../src/chain/esplora-errors.js';
import { makeTx } from './support/txs.js';

const LONG_HEX = /[0-9a-fA-F]{65,}/;
const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
/** Prose around a transaction the explorer repeats, as JSON RPC errors, mempool.space's JSON or plain text. */
const echoed = fc.tuple(fc.string({ maxLength: 300 }), hex(65, 2000), fc.string({ maxLength: 300 }));
const bodies = (before: string, raw: string, after: string) => [
  `${before}${raw}${after}`,
  `sendrawtransaction RPC error: ${JSON.stringify({ code: -26, message: `${before}${raw}${after}` })}`,
  `sendrawtransaction RPC error: ${JSON.stringify({ code: -25, message: `bad-txns-${before}${raw}` })}`,
  JSON.stringify({ error: `${before}${raw}${after}` }),
];
const reasonOf = (a: BroadcastAnswer) => ('reason' in a ? a.reason : '');

testProp('explorer text never keeps a hex run longer than 64, a control character, or more than 200 characters', [fc.string({ maxLength: 3000 }), echoed], (t, s, [before, raw, after]) => {
  for (const text of [explorerText(s), explorerText(before + raw + after)]) {
    t.false(LONG_HEX.test(text));
    t.false(/[\u0000-\u001f\u007f-\u009f]/.test(text));
    t.true(text.length <= 200);
  }
});

testProp('text without long hex runs or control characters, within the bound, is kept as it is', [fc.string({ unit: fc.constantFrom(...'abc xyz:-_0123456789{}"'), maxLength: 200 })], (t, s) => {
  fc.pre(!LONG_HEX.test(s));
  t.is(explorerText(s), s);
});

test('a txid (64 hex) is kept; one more character and the run is cut out', (t) => {
  const txid = 'ab'.repeat(32);
  t.is(explorerText(`txid ${txid} known`), `txid ${txid} known`);
  t.is(explorerText(`tx ${txid}c!`), 'tx <65 hex chars removed>!');
});

testProp('no reason classified from an answer to POST /tx or to a package holds the echoed transaction', [echoed, fc.constantFrom(400, 500)], (t, [before, raw, after], status) => {
  for (const body of bodies(before, raw, after)) {
    t.false(LONG_HEX.test(reasonOf(classifyBroadcast(status, body))), body);
    t.false(LONG_HEX.test(reasonOf(classifyPackage(status, body))), body);
  }
});

testProp('nor a reason from a submitpackage result whose messages repeat it', [echoed], (t, [before, raw, after]) => {
  const result = { package_msg: `${before}${raw}`, 'tx-results': { ['0'.repeat(64)]: { txid: '0'.repeat(64), error: `${raw}${after}` } } };
  t.false(LONG_HEX.test(reasonOf(classifyPackage(200, JSON.stringify(result)))));
});

test('a real transaction echoed in a permanent refusal leaves none of its bytes in the reason', (t) => {
  const tx = makeTx({ locktime: 1 });
  const answer = classifyBroadcast(400, `sendrawtransaction RPC error: ${JSON.stringify({ code: -26, message: `bad-txns-inputs-duplicate, tx ${tx.hex}` })}`);
  t.is(answer.kind, 'invalid');
  t.is(reasonOf(answer), `bad-txns-inputs-duplicate, tx <${tx.hex.length} hex chars removed>`);
});
