// Distributed load: `tfsvc bench --shard i/N` sends its 1/N share of one schedule, so N generators (machines, pods of
// an Indexed Job) together send what one generator would, and `bench merge` of their --json files gives one report.
//
// Contract (tested in test/load/shard.test.ts):
// - Shards are numbered 0..N-1, as Kubernetes' JOB_COMPLETION_INDEX numbers an Indexed Job's pods.
// - Every rate (constant, ramp ends, stage targets) is divided by N. Constant arrivals are phase-shifted by i/N of a
//   gap, so the N shards' intended times interleave into exactly the single generator's times (shard i sends the
//   requests whose index is i mod N). Poisson arrivals come from a stream seeded per shard (shardSeed): independent
//   Poisson processes of rate R/N add up to one of rate R; each shard's stream is reproducible from --seed.
// - Counts (--requests, --concurrency) are split so the shares sum to the total: floor(T/N), plus one for the first
//   T mod N shards. Durations and --warmup are not split: the shards run side by side for the same time.
import { UsageError } from '../errors.js';
import { describeSchedule, rampSchedule, stagesSchedule, type Schedule } from './schedule.js';

export interface Shard {
  /** 0-based, < count. */
  index: number;
  count: number;
}

/**
 * What a shard's --json result records so `bench merge` can check that its files are one run's shards: the whole
 * run's plan (schedule, bounds, seed), which shard this is, and the run's id when one was given (--run-id).
 */
export interface ShardInfo extends Shard {
  /** The whole run's schedule (describeSchedule), for the merged report. */
  schedule: string;
  /** The whole run's schedule, bounds and seed (planOf): equal in every shard of one run. */
  plan: string;
  runId?: string;
}

/** Parses `--shard i/N` (0 ≤ i < N); UsageError naming the flag otherwise. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard "${text}": expected INDEX/COUNT, e.g. --shard 0/3 (shards are numbered from 0, as JOB_COMPLETION_INDEX is)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard "${text}": the shard count must be at least 1`);
  if (index >= count) throw new UsageError(`--shard "${text}": shards of ${count} are numbered 0 to ${count - 1} (as JOB_COMPLETION_INDEX is)`);
  return { index, count };
}

/** Shard i's part of a total count T: floor(T/N), plus one for the first T mod N shards; the parts sum to T. */
export function shareOf(total: number, s: Shard): number {
  if (total === Infinity) return Infinity;
  return Math.floor(total / s.count) + (s.index < total % s.count ? 1 : 0);
}

/**
 * The arrival seed of shard i: the run's own seed for a single shard (so `--shard 0/1` is a plain run), otherwise a
 * mix of seed, index and count (splitmix32's finaliser) that differs per shard and is the same on every rerun.
 */
export function shardSeed(seed: number, s: Shard): number {
  if (s.count === 1) return seed;
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(s.index + 1, 0x85ebca6b) ^ Math.imul(s.count, 0xc2b2ae35)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97) >>> 0;
  return (x ^ (x >>> 15)) >>> 0 || 1;
}

/** Shard s's part of an open or closed schedule (see the contract at the top). */
export function shardSchedule(schedule: Schedule, s: Shard): Schedule {
  if (s.count === 1) return schedule;
  const phase = s.index / s.count;
  switch (schedule.kind) {
    case 'closed': {
      const concurrency = shareOf(schedule.concurrency, s);
      if (concurrency < 1) throw new UsageError(`--concurrency ${schedule.concurrency} cannot be split into ${s.count} shards: give at least one request in flight per shard`);
      return { kind: 'closed', concurrency };
    }
    case 'constant':
      return { kind: 'constant', rate: schedule.rate / s.count, phase };
    case 'poisson':
      return { kind: 'poisson', rate: schedule.rate / s.count, seed: shardSeed(schedule.seed, s), phase };
    case 'ramp':
      return {
        ...rampSchedule({
          startRate: schedule.startRate / s.count,
          endRate: schedule.endRate / s.count,
          rampMs: schedule.rampMs,
          offsetMs: schedule.offsetMs,
          arrival: schedule.arrival,
          seed: shardSeed(schedule.seed, s),
        }),
        phase,
      };
    case 'stages':
      return {
        ...stagesSchedule({
          stages: schedule.stages.map((st) => ({ durationMs: st.durationMs, target: st.target / s.count })),
          startRate: schedule.startRate / s.count,
          arrival: schedule.arrival,
          seed: shardSeed(schedule.seed, s),
        }),
        phase,
      };
  }
}

/** The whole run's plan, the same string in every shard's result: what `bench merge` compares. */
export function planOf(schedule: Schedule, bounds: { durationMs: number; requests: number; warmupMs: number; seed: number }): string {
  const bound = bounds.requests !== Infinity ? `${bounds.requests} requests` : `${bounds.durationMs / 1000}s`;
  return `${describeSchedule(schedule)}, ${bound}, warmup ${bounds.warmupMs / 1000}s, seed ${bounds.seed}`;
}
