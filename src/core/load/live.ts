// Running totals for the live views (ink or plain lines): everything sent so far, warmup included, plus a histogram
// of the latest interval that the view resets each time it reads it. Reports use Metrics, not this.
import { hasLatency, type Result } from './result.js';
import { newHistogram, percentileMs, recordMs } from './histogram.js';
import { latencySummary, type Summary } from './metrics.js';

export interface Snapshot {
  elapsedMs: number;
  warmup: boolean;
  sent: number;
  done: number;
  errors: number;
  /** Completed responses per second over the last interval. */
  rate: number;
  /** Corrected latency percentiles over the last interval (ms; NaN when nothing completed). */
  p50: number;
  p99: number;
  max: number;
  lastError?: string;
  /** The measured window so far (warmup excluded), for the live SLO status; absent during warmup. */
  soFar?: { summary: Summary; percentileOf(p: number): number };
}

export class LiveStats {
  private measured = newHistogram();
  private measuredDone = 0;
  private measuredOk = 0;
  private measuredFrom = Infinity;
  private interval = newHistogram();
  private intervalStart = 0;
  private intervalDone = 0;
  done = 0;
  errors = 0;
  lastError?: string;
  warmup = true;

  record(r: Result): void {
    this.done++;
    this.intervalDone++;
    this.warmup = r.warmup === true;
    if (hasLatency(r)) recordMs(this.interval, r.end - r.intended);
    if (!r.warmup) {
      this.measuredDone++;
      if (!r.error) this.measuredOk++;
      if (r.intended < this.measuredFrom) this.measuredFrom = r.intended;
      if (hasLatency(r)) recordMs(this.measured, r.end - r.intended);
    }
    if (r.error) {
      this.errors++;
      this.lastError = r.error === 'http' ? `HTTP ${r.status}: ${r.message ?? ''}` : `${r.error}: ${r.message ?? ''}`;
    }
  }

  /** Reads and resets the interval. `sent` comes from the caller (requests handed to the client). */
  snapshot(elapsedMs: number, sent: number): Snapshot {
    const secs = Math.max(1e-3, (elapsedMs - this.intervalStart) / 1000);
    const s: Snapshot = {
      elapsedMs,
      warmup: this.warmup,
      sent,
      done: this.done,
      errors: this.errors,
      rate: this.intervalDone / secs,
      p50: percentileMs(this.interval, 50),
      p99: percentileMs(this.interval, 99),
      max: this.interval.totalCount ? this.interval.maxValue / 1000 : NaN,
      lastError: this.lastError?.slice(0, 160),
    };
    if (this.measuredDone > 0) {
      const seconds = Math.max(1e-3, (elapsedMs - this.measuredFrom) / 1000);
      const lat = latencySummary(this.measured);
      const errors = this.measuredDone - this.measuredOk;
      const summary: Summary = {
        requests: this.measuredDone, ok: this.measuredOk, errors, errorRate: errors / this.measuredDone,
        throughput: this.measuredOk / seconds, durationMs: seconds * 1000, bytesIn: 0, bytesOut: 0, corrected: lat, uncorrected: lat,
      };
      const hist = this.measured;
      s.soFar = { summary, percentileOf: (p) => percentileMs(hist, p) };
    }
    this.interval.reset();
    this.intervalDone = 0;
    this.intervalStart = elapsedMs;
    return s;
  }
}
