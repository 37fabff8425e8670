// When each request is *meant* to start. An open-loop schedule is a pure sequence of intended start offsets (ms from
// the start of the run); the attack sends on it and measures latency from these times, so a stalled server cannot
// slow the schedule down (no coordinated omission). Closed loop has no intended times: each worker sends when its
// previous answer arrives.
import { seededRandom } from '../prng.js';

export type Schedule =
  | { kind: 'constant'; rate: number }
  | { kind: 'poisson'; rate: number; seed: number }
  | { kind: 'closed'; concurrency: number };

export type OpenSchedule = Exclude<Schedule, { kind: 'closed' }>;

/**
 * Intended start offsets of an open-loop schedule, in ms from the run's start, in order, forever (the caller stops).
 * Constant: request i at i × 1000/rate, computed from i (not summed), so float error never accumulates into drift.
 * Poisson: exponential gaps with mean 1000/rate from a seeded PRNG; the same seed gives the same times.
 */
export function* intendedTimes(schedule: OpenSchedule): Generator<number, never, void> {
  if (!(schedule.rate > 0)) throw new RangeError(`schedule rate must be positive, got ${schedule.rate}`);
  const interval = 1000 / schedule.rate;
  if (schedule.kind === 'constant') {
    for (let i = 0; ; i++) yield i * interval;
  }
  const random = seededRandom(schedule.seed);
  let t = 0;
  for (;;) {
    yield t;
    // 1 - U is in (0, 1], so the log is finite.
    t += -Math.log(1 - random()) * interval;
  }
}

/** The first `n` intended times (for tests and for planning a `--requests N` run). */
export function firstIntendedTimes(schedule: OpenSchedule, n: number): number[] {
  const out: number[] = [];
  const it = intendedTimes(schedule);
  for (let i = 0; i < n; i++) out.push(it.next().value);
  return out;
}

export function describeSchedule(s: Schedule): string {
  if (s.kind === 'closed') return `closed loop, ${s.concurrency} concurrent`;
  return `${s.kind === 'constant' ? 'constant' : 'Poisson'} ${s.rate}/s`;
}
