// A latency SLO as written on the command line, for the alerting kit: `p99<100ms@99.9%`.
//
// Meaning (the one docs/deploy.md states): the SLI is the share of requests answered within the threshold, measured
// from tfsvc_request_duration_seconds; the objective is the `@` share (99.9% above) or, without `@`, the percentile's
// own share (`p99.9<100ms` means 99.9% of requests under 100 ms). The percentile also names the quantile the kit
// records and plots (`histogram_quantile(0.99, ...)`). Thresholds must be bucket bounds of that histogram, since a
// Prometheus histogram can only count requests "under T" at a bound; the error lists the bounds.
import { UsageError } from '../errors.js';
import { REQUEST_DURATION_BUCKETS } from '../serving/metrics.js';

export interface LatencySlo {
  /** As the user wrote it, for descriptions. */
  readonly text: string;
  /** The quantile plotted and recorded, in (0, 1): 0.99 for p99. */
  readonly quantile: number;
  /** Threshold in seconds: a bound of tfsvc_request_duration_seconds. */
  readonly thresholdSeconds: number;
  /** Share of requests that must be under the threshold, in (0, 1): 0.999 for 99.9%. */
  readonly objective: number;
}

const SLO_RE = /^\s*p(\d+(?:\.\d+)?)\s*<\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*(?:@\s*(\d+(?:\.\d+)?)\s*%)?\s*$/;
const UNIT_SECONDS: Record<string, number> = { us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1 };

/** The thresholds an SLO may use, as users write them (`5ms`, `1s`). */
export function supportedThresholds(): string[] {
  return REQUEST_DURATION_BUCKETS.map((b) => (b < 1 ? `${+(b * 1000).toFixed(3)}ms` : `${b}s`));
}

export function parseLatencySlo(text: string): LatencySlo {
  const m = SLO_RE.exec(text);
  if (!m) {
    throw new UsageError(`--slo "${text}": expected pNN<THRESHOLD[@OBJECTIVE%], e.g. p99<100ms@99.9% or p99.9<250ms`);
  }
  const percentile = Number(m[1]);
  if (!(percentile > 0 && percentile < 100)) throw new UsageError(`--slo "${text}": the percentile must be between 0 and 100`);
  const thresholdSeconds = Number(m[2]) * UNIT_SECONDS[m[3]!]!;
  const bound = REQUEST_DURATION_BUCKETS.find((b) => Math.abs(b - thresholdSeconds) <= b * 1e-9);
  if (bound === undefined) {
    throw new UsageError(
      `--slo "${text}": ${m[2]}${m[3]} is not a bucket bound of tfsvc_request_duration_seconds, so Prometheus cannot count ` +
        `requests under it; use one of ${supportedThresholds().join(', ')}`,
    );
  }
  const objectivePercent = m[4] !== undefined ? Number(m[4]) : percentile;
  if (!(objectivePercent > 0 && objectivePercent < 100)) {
    throw new UsageError(`--slo "${text}": the objective must be a share between 0% and 100% (exclusive)`);
  }
  // Percent → share without binary noise (99.9 / 100 is 0.9990000000000001), as these numbers are printed in rules.
  const share = (pct: number) => Number((pct / 100).toPrecision(12));
  return { text: text.trim(), quantile: share(percentile), thresholdSeconds: bound, objective: share(objectivePercent) };
}
