// The --find-max search as pure logic: a fake trial that meets the SLO up to a known capacity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findMax } from '../../src/core/load/findmax.js';
import { Metrics } from '../../src/core/load/metrics.js';

const fakeTrial = (capacity: number, behindAbove = Infinity) => async (rate: number) => {
  const metrics = new Metrics({ target: 'fake', schedule: `constant ${rate}/s`, rate, startedAt: '', runs: 1 });
  metrics.health = { lagP50Ms: 0, lagP99Ms: 0, lagMaxMs: 0, connectionWaits: 0, sendRate: rate, behind: rate > behindAbove };
  const pass = rate <= capacity;
  return { metrics, checks: [{ name: 'p99<10ms', pass, actual: pass ? 5 : 50, limit: 10, op: '<' as const, message: pass ? 'ok' : 'p99<10ms: 50ms FAILED' }] };
};

test('doubles until a failure, then bisects to within the precision, never above capacity', async () => {
  const tried: number[] = [];
  const r = await findMax({ startRate: 100, maxRate: 1e6, precision: 0.05, maxTrials: 20, trial: fakeTrial(1234), onTrial: (t) => tried.push(t.rate) });
  assert.deepEqual(tried.slice(0, 6), [100, 200, 400, 800, 1600, 1200]);
  assert.ok(r.best && r.best.rate <= 1234 && r.best.rate >= 1234 / 1.05, `best ${r.best?.rate}`);
  assert.ok(tried.every((rate) => (rate <= 1234) === r.trials.find((t) => t.rate === rate)!.pass));
});

test('a trial where the generator fell behind counts as a failure, with that reason', async () => {
  const r = await findMax({ startRate: 100, maxRate: 1e6, precision: 0.05, maxTrials: 20, trial: fakeTrial(10_000, 500) });
  assert.ok(r.best && r.best.rate <= 500);
  assert.match(r.trials.find((t) => !t.pass)!.reason!, /fell behind/);
});

test('searches downwards when the start rate already fails; no best when nothing passes', async () => {
  const r = await findMax({ startRate: 100, maxRate: 1e6, precision: 0.05, maxTrials: 20, trial: fakeTrial(30) });
  assert.ok(r.best && r.best.rate <= 30 && r.best.rate >= 25, `best ${r.best?.rate}`);
  const none = await findMax({ startRate: 100, maxRate: 1e6, precision: 0.05, maxTrials: 20, trial: fakeTrial(0) });
  assert.equal(none.best, undefined);
});

test('stops at --max-qps when everything passes', async () => {
  const r = await findMax({ startRate: 100, maxRate: 300, precision: 0.05, maxTrials: 20, trial: fakeTrial(1e9) });
  assert.equal(r.best?.rate, 300);
  assert.deepEqual(r.trials.map((t) => t.rate), [100, 200, 300]);
});

test('Ctrl-C ends the search: the partial trial neither passes nor continues it, the best so far stands', async () => {
  let stopped = false;
  const trial = fakeTrial(1e9);
  const r = await findMax({
    startRate: 100, maxRate: 1e6, precision: 0.05, maxTrials: 20,
    trial: async (rate) => {
      if (rate === 400) stopped = true; // interrupted during the third trial, which would have passed
      return trial(rate);
    },
    stopped: () => stopped,
  });
  assert.equal(r.interrupted, true);
  assert.deepEqual(r.trials.map((t) => [t.rate, t.pass]), [[100, true], [200, true], [400, false]]);
  assert.match(r.trials[2]!.reason!, /interrupted/);
  assert.equal(r.best?.rate, 200);
});
