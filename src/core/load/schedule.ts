// When each request is *meant* to start. An open-loop schedule is a pure sequence of intended start offsets (ms from
// the start of the run); the attack sends on it and measures latency from these times, so a stalled server cannot
// slow the schedule down (no coordinated omission). Closed loop has no intended times: each worker sends when its
// previous answer arrives. A ramp raises (or lowers) the rate linearly over the measured window: request i is meant
// to start when the integral of the rate reaches i (constant arrivals) or a unit-rate Poisson arrival (Poisson
// arrivals, by time rescaling), so the rate at every instant is what the ramp says.
import { seededRandom } from '../prng.js';

export type Schedule =
  | { kind: 'constant'; rate: number; phase?: number }
  | { kind: 'poisson'; rate: number; seed: number; phase?: number }
  | RampSchedule
  | StagesSchedule
  | { kind: 'closed'; concurrency: number };

/**
 * k6's ramping-arrival-rate stages (`--stages 30s:100,1m:500,30s:0`): starting from `startRate`, the rate moves
 * linearly to each stage's target over that stage's duration (a 0s stage jumps). `rate` is the mean rate over all
 * stages (requests ÷ time): the target a report compares with.
 */
export interface StagesSchedule {
  kind: 'stages';
  startRate: number;
  stages: Array<{ durationMs: number; target: number }>;
  rate: number;
  arrival: 'constant' | 'poisson';
  seed: number;
  phase?: number;
}

/** Parses `30s:100,1m:500,30s:0` (DURATION:RATE, comma separated). */
export function parseStages(text: string, parseDurationMs: (v: string, flag: string) => number): Array<{ durationMs: number; target: number }> {
  const stages = text.split(',').map((part, i) => {
    const m = /^\s*([^:]+):\s*(\d+(?:\.\d+)?)\s*(?:\/s)?\s*$/.exec(part);
    if (!m) throw new RangeError(`--stages stage ${i + 1} "${part.trim()}": expected DURATION:RATE, e.g. 30s:100`);
    return { durationMs: parseDurationMs(m[1]!.trim(), `--stages stage ${i + 1}`), target: Number(m[2]) };
  });
  const total = stages.reduce((a, s) => a + s.durationMs, 0);
  if (!(total > 0)) throw new RangeError('--stages: the stages last 0s in total');
  return stages;
}

/** A stages schedule; RangeError when it would send nothing. */
export function stagesSchedule(o: { stages: Array<{ durationMs: number; target: number }>; startRate?: number; arrival?: 'constant' | 'poisson'; seed?: number }): StagesSchedule {
  const startRate = o.startRate ?? 0;
  let prev = startRate;
  let area = 0;
  let total = 0;
  for (const st of o.stages) {
    if (!(st.target >= 0) || !(st.durationMs >= 0)) throw new RangeError(`a stage needs a duration >= 0 and a rate >= 0, got ${st.durationMs} ms to ${st.target}/s`);
    area += ((prev + st.target) / 2) * (st.durationMs / 1000);
    total += st.durationMs;
    prev = st.target;
  }
  if (!(area > 0)) throw new RangeError('these stages send no requests (every rate is 0)');
  return { kind: 'stages', startRate, stages: o.stages, rate: area / (total / 1000), arrival: o.arrival ?? 'constant', seed: o.seed ?? 1 };
}

/** Total length of a stages schedule, ms. */
export function stagesDurationMs(s: StagesSchedule): number {
  return s.stages.reduce((a, st) => a + st.durationMs, 0);
}

/** When the integral of a stages schedule's rate reaches `n`: each stage is a ramp (rampTimeAt) after the previous. */
export function stagesTimeAt(s: StagesSchedule, n: number): number {
  if (n <= 0) return 0;
  let offset = 0;
  let before = 0; // requests due before this stage
  let prev = s.startRate;
  for (const st of s.stages) {
    const during = ((prev + st.target) / 2) * (st.durationMs / 1000);
    if (st.durationMs > 0 && n - before <= during && during > 0) {
      const ramp = rampSchedule({ startRate: prev, endRate: st.target, rampMs: st.durationMs });
      return offset + rampTimeAt(ramp, n - before);
    }
    before += during;
    offset += st.durationMs;
    prev = st.target;
  }
  return prev > 0 ? offset + ((n - before) * 1000) / prev : Infinity;
}

/**
 * `startRate` for the first `offsetMs` (the --warmup), then linearly to `endRate` over `rampMs` (the measured window),
 * then `endRate`. `rate` is the mean rate over the ramp, (start + end) / 2: the target a report compares with.
 */
export interface RampSchedule {
  kind: 'ramp';
  startRate: number;
  endRate: number;
  rampMs: number;
  offsetMs: number;
  rate: number;
  arrival: 'constant' | 'poisson';
  seed: number;
  phase?: number;
}

/** A ramp from `startRate` to `endRate` (requests/s) over `rampMs`, after `offsetMs` at the start rate. */
export function rampSchedule(o: { startRate: number; endRate: number; rampMs: number; offsetMs?: number; arrival?: 'constant' | 'poisson'; seed?: number }): RampSchedule {
  if (!(o.startRate >= 0 && o.endRate >= 0 && Math.max(o.startRate, o.endRate) > 0)) {
    throw new RangeError(`a ramp needs rates >= 0 and one of them > 0, got ${o.startRate} to ${o.endRate}`);
  }
  if (!(o.rampMs > 0)) throw new RangeError(`a ramp needs a positive duration, got ${o.rampMs} ms`);
  return {
    kind: 'ramp',
    startRate: o.startRate,
    endRate: o.endRate,
    rampMs: o.rampMs,
    offsetMs: o.offsetMs ?? 0,
    rate: (o.startRate + o.endRate) / 2,
    arrival: o.arrival ?? 'constant',
    seed: o.seed ?? 1,
  };
}

/**
 * The time (ms) at which a ramp's cumulative count of due requests, the integral of its rate, reaches `n` (n ≥ 0, not
 * necessarily an integer). Closed form: the inverse of a piecewise linear-then-quadratic-then-linear function.
 */
export function rampTimeAt(r: RampSchedule, n: number): number {
  if (n <= 0) return 0;
  const r0 = r.startRate / 1000; // requests per ms
  const r1 = r.endRate / 1000;
  const before = r0 * r.offsetMs; // requests due during the offset
  if (n <= before) return n / r0;
  const j = n - before;
  const during = ((r0 + r1) / 2) * r.rampMs; // requests due during the ramp
  // The request due exactly at the end of the ramp gets exactly that time, not a float hair before it (which would
  // put one request too many inside a window that ends there).
  if (j === during) return r.offsetMs + r.rampMs;
  if (j < during) {
    // r0·s + a·s² = j with a = (r1 − r0) / (2·rampMs); s = 2j / (r0 + √(r0² + 4aj)) is stable for a of either sign
    // (and a = 0); at j = during the root is r1², never negative.
    const a = (r1 - r0) / (2 * r.rampMs);
    return r.offsetMs + (2 * j) / (r0 + Math.sqrt(Math.max(0, r0 * r0 + 4 * a * j)));
  }
  return r1 > 0 ? r.offsetMs + r.rampMs + (j - during) / r1 : Infinity;
}

export type OpenSchedule = Exclude<Schedule, { kind: 'closed' }>;

/**
 * `phase` (0 ≤ phase < 1, default 0; shard.ts sets it): constant arrivals are shifted by that fraction of a gap, so N
 * shards at phases 0, 1/N, ... interleave into exactly the single generator's schedule instead of sending in
 * lockstep. A Poisson stream with a phase starts at its first exponential arrival rather than at 0, so N shards do
 * not all send at the first instant.
 */
function startOf(phase: number | undefined, unit: () => number): number {
  return phase ? -Math.log(1 - unit()) : 0;
}

/**
 * Arrivals of a time-varying rate, given `timeAt(n)`: the time its integral reaches n. Constant arrivals: request i
 * at timeAt(i + phase). Poisson: unit-rate Poisson arrivals mapped through timeAt (time rescaling), from a seeded PRNG.
 */
function* throughIntegral(timeAt: (n: number) => number, arrival: 'constant' | 'poisson', seed: number, phase = 0): Generator<number, never, void> {
  if (arrival === 'constant') for (let i = 0; ; i++) yield timeAt(i + phase);
  const unit = seededRandom(seed);
  let u = startOf(phase, unit);
  for (;;) {
    yield timeAt(u);
    u += -Math.log(1 - unit());
  }
}

/**
 * Intended start offsets of an open-loop schedule, in ms from the run's start, in order, forever (the caller stops).
 * Constant: request i at (i + phase) × 1000/rate, computed from i (not summed), so float error never accumulates into
 * drift. Poisson: exponential gaps with mean 1000/rate from a seeded PRNG; the same seed gives the same times.
 */
export function* intendedTimes(schedule: OpenSchedule): Generator<number, never, void> {
  const phase = schedule.phase ?? 0;
  if (!(phase >= 0 && phase < 1)) throw new RangeError(`schedule phase must be in [0, 1), got ${phase}`);
  if (schedule.kind === 'stages') yield* throughIntegral((n) => stagesTimeAt(schedule, n), schedule.arrival, schedule.seed, phase);
  if (schedule.kind === 'ramp') yield* throughIntegral((n) => rampTimeAt(schedule, n), schedule.arrival, schedule.seed, phase);
  if (!(schedule.rate > 0)) throw new RangeError(`schedule rate must be positive, got ${schedule.rate}`);
  const interval = 1000 / schedule.rate;
  if (schedule.kind === 'constant') {
    for (let i = 0; ; i++) yield (i + phase) * interval;
  }
  const random = seededRandom(schedule.seed);
  let t = startOf(phase, random) * interval;
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
  if (s.kind === 'stages') {
    const parts = s.stages.map((st) => `${st.durationMs / 1000}s to ${st.target}/s`);
    return `stages${s.arrival === 'poisson' ? ' (Poisson)' : ''} ${parts.join(', ')} (mean ${Number(s.rate.toFixed(3))}/s)`;
  }
  if (s.kind === 'ramp') {
    return `ramp${s.arrival === 'poisson' ? ' (Poisson)' : ''} ${s.startRate}/s to ${s.endRate}/s over ${s.rampMs / 1000}s`;
  }
  return `${s.kind === 'constant' ? 'constant' : 'Poisson'} ${s.rate}/s`;
}
