// SPEC §4: maturity exactly as Bitcoin Core's mempool decides it, table-driven.
import test from 'ava';
import { isMature, locktimeType } from '../src/domain/locktime.js';
import { fixture } from './support/fixtures.js';

interface MaturityCase {
  description: string;
  locktime: number;
  tip: { height: number; medianTime: number } | null;
  mature: boolean;
}
const { cases } = fixture<{ cases: MaturityCase[] }>('maturity.json');

for (const c of cases) {
  test(`${c.mature ? 'mature' : 'not mature'}: ${c.description}`, (t) => {
    const tip = c.tip === null ? null : { ...c.tip, hash: '00'.repeat(32) };
    t.is(isMature(c.locktime, tip), c.mature);
  });
}

test('locktimeType splits at 500000000', (t) => {
  t.is(locktimeType(0), 'height');
  t.is(locktimeType(499_999_999), 'height');
  t.is(locktimeType(500_000_000), 'time');
  t.is(locktimeType(4_294_967_295), 'time');
});
