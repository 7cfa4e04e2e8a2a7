// SPEC §8: the server caps client connections and keeps file descriptors for its own outgoing
// work; --max-connections is lowered to what the open-files limit leaves, or the service refuses
// to start when that is too little to be of use.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { connectionBudget, MIN_CONNECTIONS, openFilesLimit, outgoingDescriptors } from '../src/http/descriptors.js';

const OUTGOING = outgoingDescriptors({ explorers: 2, perExplorer: 64 });

const rows: Array<{ name: string; requested: number; limit: number | null; open: number; expect: number | 'too_few' }> = [
  { name: 'a generous limit leaves the request as it is', requested: 512, limit: 20_000, open: 20, expect: 512 },
  { name: 'a tight limit lowers it to what is left', requested: 512, limit: 600, open: 20, expect: 600 - 20 - OUTGOING },
  { name: 'exactly enough', requested: 100, limit: 20 + OUTGOING + 100, open: 20, expect: 100 },
  { name: `fewer than ${MIN_CONNECTIONS} left: refused`, requested: 512, limit: 20 + OUTGOING + MIN_CONNECTIONS - 1, open: 20, expect: 'too_few' },
  { name: 'a small request that fits is kept, however small', requested: 4, limit: 20 + OUTGOING + 4, open: 20, expect: 4 },
  { name: 'a limit below what outgoing work needs: refused', requested: 64, limit: 200, open: 20, expect: 'too_few' },
  { name: 'no limit known (no /proc): the request stands', requested: 512, limit: null, open: 0, expect: 512 },
];

for (const r of rows) {
  test(`connection budget: ${r.name}`, (t) => {
    const budget = connectionBudget(r.requested, r.limit, r.open, OUTGOING);
    if (r.expect === 'too_few') {
      t.is(budget.kind, 'too_few');
      if (budget.kind === 'too_few') t.regex(budget.message, new RegExp(`open-files limit \\(${r.limit}\\)`));
      return;
    }
    t.is(budget.kind, 'ok');
    if (budget.kind !== 'ok') return;
    t.is(budget.maxConnections, r.expect);
    t.is(budget.clamped, r.expect < r.requested);
  });
}

test('outgoing work grows with every explorer: its polling and a full lane of requests', (t) => {
  t.is(outgoingDescriptors({ explorers: 3, perExplorer: 64 }) - OUTGOING, 2 + 64);
});

test('the open-files limit read from /proc/self/limits is what a child shell reports as ulimit -n', async (t) => {
  const shell = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  t.is(await openFilesLimit(), shell === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(shell));
});
