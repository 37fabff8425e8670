// Plain progress lines (one per interval) for logs and CI, where a live terminal view would be noise.
import type { Snapshot } from '../live.js';
import { evaluateSlos, type Slo } from '../slo.js';
import { formatMs, formatRate } from '../units.js';

/** "12s left" when the run's length is known. */
export function timeLeft(s: Snapshot, totalMs: number | undefined): string {
  if (totalMs === undefined || !Number.isFinite(totalMs)) return '';
  const left = Math.max(0, Math.ceil((totalMs - s.elapsedMs) / 1000));
  return left >= 60 ? `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s left` : `${left}s left`;
}

/** Each SLO against the measured window so far: "p99<50ms ok (12.3ms), error_rate<1% FAILING (3.20%)". */
export function sloStatus(s: Snapshot, slos: readonly Slo[]): string {
  if (!slos.length) return '';
  if (!s.soFar) return 'SLO: (warmup)';
  const checks = evaluateSlos(slos, s.soFar.summary, s.soFar.percentileOf);
  return `SLO so far: ${checks.map((c) => `${c.name} ${c.pass ? 'ok' : 'FAILING'}`).join(', ')}`;
}

export function progressLine(s: Snapshot, totalMs?: number, slos: readonly Slo[] = []): string {
  const left = timeLeft(s, totalMs);
  const slo = sloStatus(s, slos);
  return (
    `[${(s.elapsedMs / 1000).toFixed(0).padStart(4)}s]${s.warmup ? ' warmup' : ''} sent ${s.sent}, done ${s.done}, ` +
    `${formatRate(s.rate)}, p50 ${formatMs(s.p50)}, p99 ${formatMs(s.p99)}, max ${formatMs(s.max)}, errors ${s.errors}` +
    (s.lastError && s.errors ? ` (last: ${s.lastError.replace(/\s+/g, ' ').slice(0, 80)})` : '') +
    (left ? `, ${left}` : '') +
    (slo ? `; ${slo}` : '')
  );
}
