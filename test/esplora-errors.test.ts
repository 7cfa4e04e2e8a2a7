// SPEC §5: Esplora's answers to POST /tx, classified from the exact strings explorers send.
import test from 'ava';
import { classifyBroadcast } from '../src/chain/esplora-errors.js';
import { fixture } from './support/fixtures.js';

interface ErrorCase {
  description: string;
  status: number;
  body: string;
  kind: string;
}
const { cases } = fixture<{ cases: ErrorCase[] }>('esplora-errors.json');

for (const c of cases) {
  test(`${c.kind}: ${c.description}`, (t) => {
    t.is(classifyBroadcast(c.status, c.body).kind as string, c.kind);
  });
}
