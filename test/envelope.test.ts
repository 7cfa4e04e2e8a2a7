// Client-side parsing (SPEC §2: the locktime is taken from the transaction itself, the txid is
// computed locally) over the fixture table that the page's browser script is also held to.
import test from 'ava';
import { parseTransaction, sealTransaction, BadTransactionError, openSealed } from '../src/index.js';
import { fixture, type TransactionFixtures } from './support/fixtures.js';
import { pad } from '../src/crypto/padding.js';
import nacl from 'tweetnacl';

const table = fixture<TransactionFixtures>('transactions.json');

for (const v of table.valid) {
  test(`parses: ${v.description}`, (t) => {
    const parsed = parseTransaction(v.hex);
    t.is(parsed.txid, v.txid);
    t.is(parsed.locktime, v.locktime);
    t.is(parsed.locktimeType, v.locktimeType);
    t.deepEqual(parseTransaction(Buffer.from(v.hex, 'hex')).txid, v.txid, 'raw bytes parse the same as hex');
  });
}

for (const v of table.invalid) {
  test(`refuses, ${JSON.stringify(v.error)}: ${v.description}`, (t) => {
    const err = t.throws(() => parseTransaction(v.hex), { instanceOf: BadTransactionError });
    t.true(err?.message.startsWith(v.error), err?.message);
  });
}

test('sealTransaction pads to SPEC §2 and its id is the first 16 bytes of SHA-256(sealed)', (t) => {
  const keys = nacl.box.keyPair();
  for (const v of table.valid) {
    const sealed = sealTransaction(keys.publicKey, parseTransaction(v.hex));
    const opened = openSealed(sealed.sealed, keys.publicKey, keys.secretKey);
    t.deepEqual(Buffer.from(opened!), Buffer.from(pad(Buffer.from(v.hex, 'hex'))), v.description);
    t.is(sealed.id, sealed.sealedSha256.slice(0, 32));
  }
});
