// The learned concurrency limit (issue 14): within its bounds whatever the latencies; it grows
// while answers keep their usual pace and requests wait for it, shrinks when answers slow down
// beyond the tolerance (twice the fast ones), and stays put while nothing waits.
import test from 'ava';
import { testProp, fc } from '@fast-check/ava';
import { AdaptiveLimit } from '../src/net/adaptive-limit.js';

const SETTINGS = { initial: 16, min: 2, max: 256 };

/** Feeds `rounds` rounds of `limit` answers each, all taking `ms`. */
function feed(limit: AdaptiveLimit, ms: number, rounds: number, saturated = true): void {
  for (let r = 0; r < rounds; r++) {
    const n = limit.limit;
    for (let i = 0; i < n; i++) limit.sample(ms, saturated);
  }
}

testProp(
  'the limit stays within [min, max] whatever the answers',
  [fc.array(fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 2000 })],
  (t, samples) => {
    const limit = new AdaptiveLimit(SETTINGS);
    for (const [ms, saturated] of samples) {
      limit.sample(ms, saturated);
      t.true(limit.limit >= SETTINGS.min && limit.limit <= SETTINGS.max, `limit ${limit.limit}`);
    }
  },
);

test('answers at their usual pace, with requests waiting, let the limit grow round by round up to max', (t) => {
  const limit = new AdaptiveLimit(SETTINGS);
  const seen = [limit.limit];
  for (let round = 0; round < 60; round++) {
    feed(limit, 700, 1);
    seen.push(limit.limit);
  }
  for (let i = 1; i < seen.length; i++) t.true(seen[i]! >= seen[i - 1]!, `round ${i}: ${seen[i - 1]} → ${seen[i]}`);
  // About √limit per round: from 16, a round adds about 4, so 24 or more after two rounds.
  t.true(seen[2]! >= 22 && seen[2]! <= 26, `after two rounds: ${seen[2]}`);
  t.is(seen.at(-1), SETTINGS.max);
});

test('answers that slow down past twice the fast ones shrink the limit, to about half in a few rounds', (t) => {
  const limit = new AdaptiveLimit({ ...SETTINGS, initial: 64 });
  feed(limit, 700, 2, false);
  t.is(limit.limit, 64, 'nothing waiting: the limit only learns the latency');
  feed(limit, 700 * 6, 3);
  t.true(limit.limit <= 40, `after three slow rounds: ${limit.limit}`);
  t.deepEqual(limit.sample(700 * 6, true), { limit: limit.limit, recentMs: 4200, fastMs: 700 });
});

test('a slowdown that lasts becomes the usual pace: once the fast answers are forgotten, the limit probes upwards again', (t) => {
  const limit = new AdaptiveLimit(SETTINGS);
  feed(limit, 700, 2);
  feed(limit, 7000, 3);
  const low = limit.limit;
  t.true(low < 16);
  for (let i = 0; i < 256; i++) limit.sample(7000, true);
  t.true(limit.limit > low, `${low} → ${limit.limit}`);
});

test('slower answers within the tolerance do not shrink it', (t) => {
  const limit = new AdaptiveLimit(SETTINGS);
  feed(limit, 700, 5);
  const before = limit.limit;
  feed(limit, 1300, 3);
  t.true(limit.limit >= before, `${before} → ${limit.limit}`);
});

test('a slow spell that is over is forgotten: the limit grows again at the old pace', (t) => {
  const limit = new AdaptiveLimit(SETTINGS);
  feed(limit, 700, 5);
  feed(limit, 7000, 10);
  const low = limit.limit;
  feed(limit, 700, 20);
  t.true(limit.limit > low * 2, `${low} → ${limit.limit}`);
});

test('settings out of order are refused', (t) => {
  t.throws(() => new AdaptiveLimit({ initial: 1, min: 2, max: 8 }), { instanceOf: RangeError });
  t.throws(() => new AdaptiveLimit({ initial: 4, min: 0, max: 8 }), { instanceOf: RangeError });
});
