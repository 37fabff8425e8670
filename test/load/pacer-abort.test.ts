// Ctrl-C stops the pacer at once, even at a low rate where the next request is seconds away: the run then reports
// instead of sleeping until that request was due.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { runPacer } from '../../src/core/load/pacer.js';

test('an abort wakes the pacer from its sleep instead of waiting for the next due request', async () => {
  const stop = new AbortController();
  const t0 = performance.now();
  const intended: number[] = [];
  // 0.1/s: request 0 is due at once, request 1 ten seconds later.
  const pacer = runPacer({ schedule: { kind: 'constant', rate: 0.1 }, untilMs: Infinity, maxRequests: Infinity, now: () => performance.now() - t0, signal: stop.signal, issue: (t) => intended.push(t) });
  setTimeout(() => stop.abort(), 50);
  // Compared with the 10 s gap, not a measured budget: anything that waited for request 1 loses the race.
  let gapTimer: NodeJS.Timeout | undefined;
  const winner = await Promise.race([pacer.then(() => 'pacer'), new Promise((r) => (gapTimer = setTimeout(() => r('gap'), 5000)))]);
  clearTimeout(gapTimer);
  assert.equal(winner, 'pacer');
  assert.deepEqual(intended, [0], 'only the request due before the abort was issued');
});
