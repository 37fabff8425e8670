// Did the load generator keep its schedule? A pure fold over (intended, issued) times of the measured requests, so
// the rule can be tested without a clock.
//
// Two ways to be "behind":
// - lag: more than a tenth of the requests went out over BEHIND_LAG_MS late (lag p90). A generator that cannot keep
//   up lags more and more, so this trips on any run long enough for the lag to build up.
// - shortfall: fewer than 99% of the requests due by a checkpoint had gone out by then, at BOTH the middle and the end
//   of the window. A sustained shortfall (sending 97% of the rate) shows at both; a single pause (GC, a busy CPU)
//   delays only the requests due during it, so it shows at one checkpoint at most. Measuring the send rate over the
//   whole run instead, as this file once did, let one late final request stretch the window by its lateness: a 20 ms
//   pause at the end of a 2 s run read as a 1% shortfall.
// Connection waits are not counted (the pacer's issue time is used, not the send): they mean the server (or
// --connections) is the limit, not the generator.

export const BEHIND_LAG_MS = 10;
/** Fraction of the due requests that must have gone out by each checkpoint. */
export const MIN_SENT_FRACTION = 0.99;
/** Below this many measured requests the shortfall rule says nothing (one request is already 1% of 100). */
const MIN_REQUESTS = 100;

export class ScheduleKeeping {
  private readonly checkpoints: number[];
  private readonly due: number[];
  private readonly sentBy: number[];
  private issued = 0;

  /** `windowStart`, `windowEnd`: the measured window on the attack clock (ms). */
  constructor(windowStart: number, windowEnd: number) {
    this.checkpoints = Number.isFinite(windowEnd) ? [windowStart + (windowEnd - windowStart) / 2, windowEnd] : [];
    this.due = this.checkpoints.map(() => 0);
    this.sentBy = this.checkpoints.map(() => 0);
  }

  /** One measured request: when it was meant to go out and when the pacer issued it (ms, attack clock). */
  issue(intended: number, issuedAt: number): void {
    this.issued++;
    for (let c = 0; c < this.checkpoints.length; c++) {
      const t = this.checkpoints[c]!;
      if (intended < t) {
        this.due[c]!++;
        if (issuedAt <= t) this.sentBy[c]!++;
      }
    }
  }

  /** Fraction of the requests due by each checkpoint (middle, end) that had gone out by then; 1 when none were due. */
  sentFractions(): number[] {
    return this.checkpoints.map((_, c) => (this.due[c]! ? this.sentBy[c]! / this.due[c]! : 1));
  }

  /** The rule above, given the pacer's lag p90 (ms). */
  behind(lagP90Ms: number): boolean {
    if (lagP90Ms > BEHIND_LAG_MS) return true;
    if (this.issued <= MIN_REQUESTS || this.checkpoints.length === 0) return false;
    return this.sentFractions().every((f) => f < MIN_SENT_FRACTION);
  }
}
