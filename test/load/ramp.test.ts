// A ramp schedule (--ramp START:END) raises the rate linearly over the measured window. Request i is meant to start
// when the integral of the rate reaches i, so every second carries exactly the requests the ramp's rate says; the
// reports show the ramp as a per-second series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstIntendedTimes, rampSchedule, rampTimeAt, type RampSchedule } from '../../src/core/load/schedule.js';
import { runCli } from './cli-helper.js';
import { startFixtureServer } from './fixture-server.js';

/** The integral of a ramp's rate from 0 to `t` ms: how many requests are due by then (the defining property). */
function due(r: RampSchedule, t: number): number {
  const r0 = r.startRate / 1000;
  const r1 = r.endRate / 1000;
  if (t <= r.offsetMs) return r0 * t;
  const s = Math.min(t - r.offsetMs, r.rampMs);
  const ramped = r0 * r.offsetMs + r0 * s + ((r1 - r0) * s * s) / (2 * r.rampMs);
  return ramped + r1 * Math.max(0, t - r.offsetMs - r.rampMs);
}

test('ramp 100/s to 2000/s over 10 s: request i starts where the rate integral reaches i', () => {
  const r = rampSchedule({ startRate: 100, endRate: 2000, rampMs: 10_000 });
  assert.equal(r.rate, 1050, 'the mean rate is the target a report compares with');
  const n = Math.round(due(r, 10_000)); // 100·10 + 1900·10/2 = 10500
  assert.equal(n, 10_500);
  const times = firstIntendedTimes(r, n + 1);
  assert.equal(times[0], 0);
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i]! > times[i - 1]!, `times increase at ${i}`);
    assert.ok(Math.abs(due(r, times[i]!) - i) < 1e-6, `integral at request ${i}: ${due(r, times[i]!)}`);
  }
  assert.ok(Math.abs(times[n]! - 10_000) < 1e-6, 'the last due request lands on the end of the ramp');
  // Second k holds Λ(k+1) − Λ(k) = 195 + 190k requests: 195 in the first second, 1905 in the last.
  for (let k = 0; k < 10; k++) {
    const inSecond = times.filter((t) => t >= k * 1000 && t < (k + 1) * 1000).length;
    assert.ok(Math.abs(inSecond - (195 + 190 * k)) <= 1, `second ${k}: ${inSecond} requests`);
  }
  // The gap follows the instantaneous rate: 1/100 s at the start, 1/2000 s at the end.
  assert.ok(Math.abs(times[1]! - 10) < 0.1);
  assert.ok(Math.abs(times[n]! - times[n - 1]! - 0.5) < 0.01);
});

test('ramps down, from zero, and after a warmup offset at the start rate', () => {
  const down = rampSchedule({ startRate: 2000, endRate: 100, rampMs: 4000 });
  const fromZero = rampSchedule({ startRate: 0, endRate: 1000, rampMs: 2000 });
  const offset = rampSchedule({ startRate: 50, endRate: 500, rampMs: 1000, offsetMs: 2000 });
  for (const r of [down, fromZero, offset]) {
    const times = firstIntendedTimes(r, 600);
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i]! >= times[i - 1]!);
      assert.ok(Math.abs(due(r, times[i]!) - i) < 1e-6, `${r.startRate}→${r.endRate}: integral at ${i} is ${due(r, times[i]!)}`);
    }
  }
  // During the offset (the --warmup) the rate is the start rate: 50/s, one request every 20 ms.
  assert.deepEqual(firstIntendedTimes(offset, 4), [0, 20, 40, 60]);
  // From zero: the first gap is long (√(2/a)), not a division by zero.
  assert.ok(Number.isFinite(rampTimeAt(fromZero, 1)) && rampTimeAt(fromZero, 1) > 0);
  // After the ramp, the end rate holds.
  assert.ok(Math.abs(rampTimeAt(offset, due(offset, 3000) + 5) - (3000 + 10)) < 1e-6);
  assert.throws(() => rampSchedule({ startRate: 0, endRate: 0, rampMs: 1000 }), /one of them > 0/);
});

test('Poisson ramp: arrivals per second follow the ramp (time-rescaled Poisson process)', () => {
  const r = rampSchedule({ startRate: 100, endRate: 2000, rampMs: 10_000, arrival: 'poisson', seed: 7 });
  const times: number[] = [];
  const it = firstIntendedTimes(r, 20_000);
  for (const t of it) if (t < 10_000) times.push(t);
  // 10500 expected; a Poisson count has sd √10500 ≈ 102.
  assert.ok(Math.abs(times.length - 10_500) < 5 * Math.sqrt(10_500), `${times.length} arrivals`);
  const first = times.filter((t) => t < 1000).length;
  const last = times.filter((t) => t >= 9000).length;
  assert.ok(Math.abs(first - 195) < 5 * Math.sqrt(195) && Math.abs(last - 1905) < 5 * Math.sqrt(1905), `first ${first}, last ${last}`);
  assert.deepEqual(firstIntendedTimes(r, 50), firstIntendedTimes({ ...r }, 50), 'same seed, same times');
});

test('bench --ramp: the JSON has a per-second series that rises with the rate', async (t) => {
  const server = await startFixtureServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-ramp-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const json = path.join(dir, 'ramp.json');
  const code = await runCli(['bench', server.url, '--model', 'half_plus_two', '--ramp', '20:200', '--duration', '2s', '--no-progress', '--json', json]);
  assert.equal(code, 0);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  // Λ(t) = 20t + 45t²: 65 requests due in the first second, 155 in the second (±1 for a time that lands on a
  // second's boundary up to float rounding).
  const counts: number[] = result.timeline.map((b: { count: number }) => b.count);
  assert.equal(counts.length, 2);
  assert.ok(Math.abs(counts[0]! - 65) <= 1 && Math.abs(counts[1]! - 155) <= 1, `per second ${counts}`);
  assert.equal(result.throughput.length, 2);
  assert.equal(result.throughput[0] + result.throughput[1], result.counts.ok);
  assert.equal(result.counts.ok, counts[0]! + counts[1]!);
  assert.ok(result.throughput[1] > result.throughput[0], `throughput ${result.throughput}`);
  assert.match(result.info.schedule, /^ramp 20\/s to 200\/s over 2s/);
  assert.equal(await runCli(['bench', server.url, '--model', 'half_plus_two', '--ramp', '20:200', '--requests', '10']), 2, '--ramp needs --duration');
  assert.equal(await runCli(['bench', server.url, '--model', 'half_plus_two', '--ramp', '20-200']), 2, 'bad --ramp');
});
