// SPEC §7 "Choosing and climbing" as a table: which rung goes out first, which comes next, and
// when an unconfirmed rung is due for replacement.
import test from 'ava';
import { bumpDue, chooseRung, nextRung } from '../src/domain/climbing.js';
import { fixture } from './support/fixtures.js';

interface Table {
  choose: Array<{ name: string; feeRates: Array<number | null>; estimate: number | null; rung: number }>;
  next: Array<{ name: string; rung: number; rungs: number | null; next: number | null }>;
  bump: Array<{ name: string; sentHeight: number | null; tipHeight: number | null; bumpBlocks: number; due: boolean }>;
}

const table = fixture<Table>('climbing.json');

for (const row of table.choose) {
  test(`choose: ${row.name}`, (t) => {
    t.is(chooseRung(row.feeRates.map((feeRate) => ({ feeRate })), row.estimate), row.rung);
  });
}

for (const row of table.next) {
  test(`next: ${row.name}`, (t) => t.is(nextRung(row.rung, row.rungs), row.next));
}

for (const row of table.bump) {
  test(`bump: ${row.name}`, (t) => t.is(bumpDue(row.sentHeight, row.tipHeight, row.bumpBlocks), row.due));
}
