// The final report in the terminal: a cli-table3 table of latency percentiles (corrected and uncorrected) framed by
// a few lines about the run, its errors, the generator's schedule health, and the SLO checks.
import Table from 'cli-table3';
import { errorBreakdown, SUMMARY_PERCENTILES, type LatencySummary, type Metrics } from '../metrics.js';
import type { Check } from '../slo.js';
import { formatMs, formatPercent, formatRate } from '../units.js';

function latencyRow(label: string, l: LatencySummary): string[] {
  return [label, ...SUMMARY_PERCENTILES.map(([k]) => formatMs(l[k])), formatMs(l.max), formatMs(l.mean)];
}

/** Lines describing the run (shared by the text and markdown reports). */
export function runLines(m: Metrics): string[] {
  const s = m.summary();
  const lines = [
    `target:     ${m.info.target}${m.info.runs > 1 ? ` (${m.info.runs} runs merged)` : ''}`,
    `schedule:   ${m.info.schedule}${m.info.connections ? `, ${m.info.connections} connections` : ''}${m.info.batch ? `, batch ${m.info.batch}` : ''}`,
    `requests:   ${s.requests} in ${(s.durationMs / 1000).toFixed(2)}s, ${s.ok} ok, ${s.errors} errors (${formatPercent(s.errorRate)})`,
    `throughput: ${formatRate(s.throughput)}${m.health ? ` (sent ${formatRate(m.health.sendRate)}${m.info.rate ? ` of ${formatRate(m.info.rate)} target` : ''})` : ''}`,
  ];
  // A ramp's point is how throughput follows the rate: show it second by second (answered ok, by arrival).
  if (m.info.schedule.startsWith('ramp') && m.throughput.length) {
    const shown = m.throughput.slice(0, 30).map((n) => String(n)).join(' ');
    lines.push(`ok/s:       ${shown}${m.throughput.length > 30 ? ' ...' : ''} (each second of the window)`);
  }
  if (m.health) {
    const h = m.health;
    lines.push(
      `generator:  lag p50 ${formatMs(h.lagP50Ms)}, p99 ${formatMs(h.lagP99Ms)}, max ${formatMs(h.lagMaxMs)}` +
        (h.connectionWaits ? `; ${h.connectionWaits} requests waited for a free connection` : '') +
        (h.behind ? ' - BEHIND SCHEDULE' : ''),
    );
  }
  return lines;
}

/** Warnings a reader must not miss (the generator fell behind, connections saturated). */
export function warnings(m: Metrics): string[] {
  const out: string[] = [];
  const h = m.health;
  if (h?.behind) {
    out.push(
      `the load generator fell behind its schedule (lag p50 ${formatMs(h.lagP50Ms)}, p99 ${formatMs(h.lagP99Ms)}; sent ${formatRate(h.sendRate)}${m.info.rate ? ` of ${formatRate(m.info.rate)}` : ''}); ` +
        'latencies include that lag; use a lower --qps, fewer bodies per second, or more generator machines (and `bench merge`)',
    );
  }
  // hasLatency (result.ts): these failures are errors only, so the percentiles above describe the other requests.
  const unanswered = (m.byKind.connect ?? 0) + (m.byKind.reset ?? 0) + (m.byKind.other ?? 0);
  if (unanswered > 0) {
    out.push(
      `${unanswered} of ${m.requests} requests got no answer (connection refused, dropped or failed); ` +
        'the latencies describe the others only: gate on error_rate too (--slo \'error_rate<0.1%\')',
    );
  }
  if (h && h.connectionWaits > 0.01 * m.requests && m.requests > 0) {
    out.push(`${formatPercent(h.connectionWaits / m.requests)} of requests waited for a free connection: the server was slower than the rate needs, or raise --connections`);
  }
  return out;
}

export function renderTable(m: Metrics, checks: Check[] = []): string {
  const s = m.summary();
  const table = new Table({
    head: ['latency', ...SUMMARY_PERCENTILES.map(([, , label]) => label), 'max', 'mean'],
    style: { head: [], border: [] },
  });
  table.push(latencyRow('corrected', s.corrected), latencyRow('uncorrected', s.uncorrected));
  const lines = [...runLines(m), table.toString()];
  const errors = errorBreakdown(m);
  if (errors.length) {
    lines.push('errors:');
    for (const e of errors) lines.push(`  ${e.label}: ${e.count}${e.sample ? `  (${e.sample.replace(/\s+/g, ' ').slice(0, 120)})` : ''}`);
  }
  for (const w of warnings(m)) lines.push(`warning: ${w}`);
  if (checks.length) {
    lines.push('SLO:');
    for (const c of checks) lines.push(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.message}`);
  }
  return lines.join('\n') + '\n';
}
