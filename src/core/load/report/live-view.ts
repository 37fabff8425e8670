// The live terminal view (ink) shown on a TTY during a run: progress, rate, the last second's percentiles, errors.
// Rendered to stderr so stdout keeps only the final report.
import { createElement as h } from 'react';
import type { Snapshot } from '../live.js';
import type { Slo } from '../slo.js';
import { formatMs, formatRate } from '../units.js';
import { sloStatus, timeLeft } from './lines.js';

export interface LiveView {
  update(s: Snapshot): void;
  stop(): void;
}

/** Starts the ink view; `totalMs` (when known) draws a progress bar. */
export async function startLiveView(title: string, totalMs: number | undefined, slos: readonly Slo[] = []): Promise<LiveView> {
  const { render, Box, Text } = await import('ink');
  const view = (s: Snapshot | undefined) => {
    const elapsed = s?.elapsedMs ?? 0;
    const frac = totalMs && totalMs > 0 ? Math.min(1, elapsed / totalMs) : undefined;
    const bar = frac !== undefined ? `${'█'.repeat(Math.round(frac * 30))}${'░'.repeat(30 - Math.round(frac * 30))} ${(frac * 100).toFixed(0)}%` : '';
    return h(
      Box,
      // A fixed width: a terminal that reports no size (some CI ptys) would otherwise squeeze the box to nothing.
      { flexDirection: 'column', borderStyle: 'round', paddingX: 1, width: Math.min(Math.max(process.stderr.columns || 80, 40), 100) },
      h(Text, { bold: true }, title),
      h(Text, null, `${(elapsed / 1000).toFixed(0)}s ${bar}${s?.warmup ? '  (warmup)' : ''}${s && timeLeft(s, totalMs) ? `  ${timeLeft(s, totalMs)}` : ''}`),
      h(Text, null, `sent ${s?.sent ?? 0}  done ${s?.done ?? 0}  rate ${s ? formatRate(s.rate) : '-'}`),
      h(Text, null, `last second: p50 ${s ? formatMs(s.p50) : '-'}  p99 ${s ? formatMs(s.p99) : '-'}  max ${s ? formatMs(s.max) : '-'}`),
      ...(slos.length && s ? [h(Text, { color: sloStatus(s, slos).includes('FAILING') ? 'red' : 'green' }, sloStatus(s, slos))] : []),
      h(Text, { color: s?.errors ? 'red' : undefined }, `errors ${s?.errors ?? 0}${s?.lastError && s.errors ? `  last: ${s.lastError.replace(/\s+/g, ' ').slice(0, 70)}` : ''}`),
    );
  };
  const instance = render(view(undefined), { stdout: process.stderr, patchConsole: false, exitOnCtrlC: false });
  return {
    update: (s) => instance.rerender(view(s)),
    stop: () => instance.unmount(),
  };
}
