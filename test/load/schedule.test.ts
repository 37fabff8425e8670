// Open-loop schedules are pure: the intended start times must be exactly what the rate says (constant) or a
// reproducible Poisson process (exponential gaps, mean 1/rate), and the pacer must issue every due request in
// order, catching up after it wakes late instead of drifting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstIntendedTimes } from '../../src/core/load/schedule.js';
import { runPacer } from '../../src/core/load/pacer.js';

test('constant schedule: request i is meant to start at i × 1000/rate ms, with no accumulated float drift', () => {
  const times = firstIntendedTimes({ kind: 'constant', rate: 3000 }, 300_001);
  assert.equal(times[0], 0);
  assert.equal(times[3], 1);
  // After 300000 requests at 3000/s the schedule is at exactly 100 s (a summed 1/3 ms would be off by float error).
  assert.equal(times[300_000], 100_000);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!);
});

test('Poisson schedule: exponential gaps with mean 1/rate, reproducible per seed', () => {
  const rate = 500;
  const n = 50_000;
  const times = firstIntendedTimes({ kind: 'poisson', rate, seed: 42 }, n);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.every((g) => g >= 0));
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  assert.ok(Math.abs(mean - 1000 / rate) / (1000 / rate) < 0.03, `mean gap ${mean}ms, expected ${1000 / rate}ms`);
  // For an exponential distribution P(gap > mean) = e^-1 and the coefficient of variation is 1.
  const above = gaps.filter((g) => g > 1000 / rate).length / gaps.length;
  assert.ok(Math.abs(above - Math.exp(-1)) < 0.02, `P(gap > mean) = ${above}`);
  const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
  assert.ok(Math.abs(sd / mean - 1) < 0.05, `coefficient of variation ${sd / mean}`);
  assert.deepEqual(firstIntendedTimes({ kind: 'poisson', rate, seed: 42 }, 100), times.slice(0, 100));
  assert.notDeepEqual(firstIntendedTimes({ kind: 'poisson', rate, seed: 43 }, 100), times.slice(0, 100));
});

test('pacer: issues every due request in schedule order, catching up after a late wake-up', async () => {
  // A clock that jumps 37 ms on every reading: the pacer always wakes late and must issue the backlog at once.
  let clock = 0;
  const now = () => (clock += 37);
  const issued: Array<[number, number]> = [];
  const count = await runPacer({
    schedule: { kind: 'constant', rate: 1000 },
    untilMs: 500,
    maxRequests: Infinity,
    now,
    issue: (intended, lag) => issued.push([intended, lag]),
  });
  assert.equal(count, 500);
  assert.deepEqual(issued.map(([t]) => t), firstIntendedTimes({ kind: 'constant', rate: 1000 }, 500));
  assert.ok(issued.every(([, lag]) => lag >= 0));
  assert.ok(issued.some(([, lag]) => lag > 1), 'late wake-ups show up as lag');
});

test('pacer: stops after maxRequests', async () => {
  let clock = 0;
  const count = await runPacer({ schedule: { kind: 'poisson', rate: 2000, seed: 1 }, untilMs: Infinity, maxRequests: 123, now: () => (clock += 5), issue: () => {} });
  assert.equal(count, 123);
});
