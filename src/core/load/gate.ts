// Applies SLOs (and a baseline) to a finished run's Metrics: the glue between metrics and the pure slo.ts.
import { percentileMs } from './histogram.js';
import type { Metrics } from './metrics.js';
import { evaluateSlos, type Check, type Slo } from './slo.js';

export function checkRun(m: Metrics, slos: readonly Slo[], baseline?: { metrics: Metrics; maxRegression: number }): Check[] {
  return evaluateSlos(
    slos,
    m.summary(),
    (p) => percentileMs(m.corrected, p),
    baseline && {
      summary: baseline.metrics.summary(),
      percentileOf: (p) => percentileMs(baseline.metrics.corrected, p),
      maxRegression: baseline.maxRegression,
    },
  );
}

/** One line naming each failed check and by how much it missed. */
export function failureSummary(checks: Check[]): string {
  const failed = checks.filter((c) => !c.pass);
  return `SLO failed (${failed.length} of ${checks.length}): ${failed.map((c) => c.message.replace(/^[^:]*: /, `${c.name}: `)).join('; ')}`;
}
