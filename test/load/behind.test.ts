// When does the load generator count as behind its schedule? The rule (src/core/load/behind.ts) must flag a
// sustained shortfall and must not flag a single pause, wherever in the run it falls, including at the very end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEHIND_LAG_MS, ScheduleKeeping } from '../../src/core/load/behind.js';
import { firstIntendedTimes } from '../../src/core/load/schedule.js';

/** A 2 s window at `rate`/s; `issuedAt(intended)` says when the pacer issued each request. */
function keep(rate: number, issuedAt: (intended: number, i: number) => number): ScheduleKeeping {
  const k = new ScheduleKeeping(0, 2000);
  const times = firstIntendedTimes({ kind: 'constant', rate }, (rate * 2000) / 1000);
  times.forEach((t, i) => k.issue(t, issuedAt(t, i)));
  return k;
}

test('one late final request (a 20 ms pause at the end of a 2 s run) is not behind', () => {
  for (const rate of [100, 1000, 5000]) {
    const n = rate * 2;
    // The last request goes out 20 ms late (1% of the run): the old whole-run send rate read 2000/2020 = 99.0%.
    const last = keep(rate, (t, i) => (i === n - 1 ? t + 20 : t));
    assert.equal(last.behind(0), false, `${rate}/s, last request 20 ms late`);
    // A pause at the end delays every request due during it, and the pacer catches up in one burst.
    const pauseEnd = keep(rate, (t) => Math.max(t, t >= 1980 ? 2000 : t));
    assert.equal(pauseEnd.behind(0), false, `${rate}/s, 20 ms pause at the end`);
    const pauseMid = keep(rate, (t) => (t >= 990 && t < 1010 ? 1010 : t));
    assert.equal(pauseMid.behind(0), false, `${rate}/s, 20 ms pause in the middle`);
  }
});

test('a sustained shortfall is behind even while the lag stays under the lag rule', () => {
  // Sending at 97% of the rate: request i goes out at i / (0.97 × rate). The lag grows to 60 ms, so a run this short
  // has a lag p90 that may stay under the limit; the shortfall rule alone must catch it.
  const k = keep(1000, (t) => t / 0.97);
  assert.ok(k.sentFractions().every((f) => f < 0.99), `sent fractions ${k.sentFractions().join(', ')}`);
  assert.equal(k.behind(0), true);
  // On schedule: not behind. A lag p90 over the limit: behind whatever the counts say.
  const onTime = keep(1000, (t) => t);
  assert.deepEqual(onTime.sentFractions(), [1, 1]);
  assert.equal(onTime.behind(0), false);
  assert.equal(onTime.behind(BEHIND_LAG_MS + 1), true);
});

test('too few requests to judge a shortfall: only the lag rule applies', () => {
  const k = new ScheduleKeeping(0, 1000);
  for (let i = 0; i < 50; i++) k.issue(i * 20, i * 40);
  assert.equal(k.behind(0), false);
});
