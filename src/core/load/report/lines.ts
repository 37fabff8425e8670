// Plain progress lines (one per interval) for logs and CI, where a live terminal view would be noise.
import type { Snapshot } from '../live.js';
import { formatMs, formatRate } from '../units.js';

export function progressLine(s: Snapshot): string {
  return (
    `[${(s.elapsedMs / 1000).toFixed(0).padStart(4)}s]${s.warmup ? ' warmup' : ''} sent ${s.sent}, done ${s.done}, ` +
    `${formatRate(s.rate)}, p50 ${formatMs(s.p50)}, p99 ${formatMs(s.p99)}, max ${formatMs(s.max)}, errors ${s.errors}` +
    (s.lastError && s.errors ? ` (last: ${s.lastError.replace(/\s+/g, ' ').slice(0, 80)})` : '')
  );
}
