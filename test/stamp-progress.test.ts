// The CLI's stamp progress on stderr (SPEC §8): an estimate once the hash rate is measured, a line
// every few seconds, one when found; and the same again for a second search (the price rose meanwhile).
import test from 'ava';
import { stampReporter } from '../src/cli/stamp-progress.js';
import type { StampProgress } from '../src/domain/stamp.js';

const at = (bits: number, elapsedMs: number, found = false): StampProgress => ({
  bits,
  tried: elapsedMs * 1000,
  expected: 2 ** bits,
  hashesPerSecond: 1_000_000,
  elapsedMs,
  found,
});

/** The lines one search writes: after 300 ms the estimate, a line every 5 s, the find. */
const search = (bits: number) => [at(bits, 100), at(bits, 400), at(bits, 2_000), at(bits, 5_500), at(bits, 6_000, true)];

test('one search: the estimate, a progress line 5 s later, the find', (t) => {
  const lines: string[] = [];
  const report = stampReporter((l) => lines.push(l));
  for (const p of search(24)) report(p);
  t.is(lines.length, 3, lines.join(''));
  t.regex(lines[0]!, /^stamp: the server is busy and asks for 24 bits of work: about 16,777,216 hashes, ~17 s at the 1,000,000 hashes\/s measured here\n$/);
  t.regex(lines[1]!, /^stamp: 5,500,000 hashes tried \(33% of the expected count\) in 5\.5 s\n$/);
  t.regex(lines[2]!, /^stamp: found after 6,000,000 hashes in 6\.0 s\n$/);
});

test('a second search with the same reporter (the price rose) gets its own estimate and progress', (t) => {
  const lines: string[] = [];
  const report = stampReporter((l) => lines.push(l));
  for (const p of search(20)) report(p);
  const first = lines.length;
  for (const p of search(22)) report(p);
  const second = lines.slice(first);
  t.is(second.length, 3, second.join(''));
  t.regex(second[0]!, /^stamp: the server is busy and asks for 22 bits of work/);
  t.regex(second[1]!, /^stamp: 5,500,000 hashes tried/);
  t.regex(second[2]!, /^stamp: found after 6,000,000 hashes/);
});
