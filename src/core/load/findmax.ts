// `--find-max`: the highest open-loop rate that meets the SLO, like perf_analyzer's latency-threshold search but
// answered as a number and usable as a gate. Doubles the rate from a start until a trial fails, then bisects
// between the last pass and the first failure until they are within `precision` of each other.
// A trial where the generator fell behind counts as a failure: its numbers say nothing about the server.
import type { Metrics } from './metrics.js';
import type { Check } from './slo.js';

export interface Trial {
  rate: number;
  pass: boolean;
  /** Why it failed: the failed checks' messages, or that the generator fell behind. */
  reason?: string;
  metrics: Metrics;
  checks: Check[];
}

export interface FindMaxOptions {
  startRate: number;
  /** Never try above this rate. */
  maxRate: number;
  /** Stop when (firstFail − lastPass) / lastPass is at most this (e.g. 0.05). */
  precision: number;
  maxTrials: number;
  trial(rate: number): Promise<{ metrics: Metrics; checks: Check[] }>;
  /**
   * True once the user interrupted (Ctrl-C). The trial then in progress is partial: it cannot pass (a few good
   * seconds say nothing about a full trial), and the search ends with the best rate found so far.
   */
  stopped?(): boolean;
  onTrial?(t: Trial): void;
}

export interface FindMaxResult {
  best?: Trial;
  trials: Trial[];
  /** The search ended early because `stopped()` turned true. */
  interrupted?: boolean;
}

export async function findMax(o: FindMaxOptions): Promise<FindMaxResult> {
  const trials: Trial[] = [];
  const run = async (rate: number): Promise<Trial> => {
    const { metrics, checks } = await o.trial(rate);
    const failed = checks.filter((c) => !c.pass);
    const behind = metrics.health?.behind === true;
    const interrupted = o.stopped?.() === true;
    const t: Trial = {
      rate,
      pass: failed.length === 0 && !behind && !interrupted,
      reason: interrupted
        ? 'interrupted (a partial trial)'
        : failed.length ? failed.map((c) => c.message).join('; ') : behind ? 'the load generator fell behind its schedule' : undefined,
      metrics,
      checks,
    };
    trials.push(t);
    o.onTrial?.(t);
    return t;
  };
  let best: Trial | undefined;
  let failRate: number | undefined;
  let rate = Math.min(o.startRate, o.maxRate);
  while (trials.length < o.maxTrials) {
    const t = await run(rate);
    if (o.stopped?.()) return { best, trials, interrupted: true };
    if (!t.pass) {
      failRate = rate;
      break;
    }
    best = t;
    if (rate >= o.maxRate) break;
    rate = Math.min(rate * 2, o.maxRate);
  }
  if (failRate !== undefined) {
    let lo = best?.rate ?? 0;
    let hi = failRate;
    // With no passing rate yet, search down towards zero; stop at a small fraction of the start rate.
    while (trials.length < o.maxTrials && (lo > 0 ? (hi - lo) / lo > o.precision : hi > o.startRate / 64)) {
      const mid = lo > 0 ? (lo + hi) / 2 : hi / 2;
      const r = Math.max(1, Math.round(mid));
      if (r === lo || r === hi) break;
      const t = await run(r);
      if (o.stopped?.()) return { best, trials, interrupted: true };
      if (t.pass) {
        best = t;
        lo = r;
      } else hi = r;
    }
  }
  return { best, trials };
}
