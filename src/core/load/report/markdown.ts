// The markdown summary appended to $GITHUB_STEP_SUMMARY (GitHub Actions shows it on the job's page).
import { errorBreakdown, SUMMARY_PERCENTILES, type Metrics } from '../metrics.js';
import type { Check } from '../slo.js';
import { formatMs } from '../units.js';
import { runLines, warnings } from './text.js';

export function renderMarkdown(m: Metrics, checks: Check[] = []): string {
  const s = m.summary();
  const pass = checks.every((c) => c.pass);
  const out: string[] = [];
  out.push(`### tfsvc bench ${checks.length ? (pass ? '✅ SLO met' : '❌ SLO failed') : ''}`.trimEnd(), '');
  for (const line of runLines(m)) out.push(`- ${line.replace(/^(\w+):\s+/, '**$1**: ')}`);
  out.push('');
  out.push(`| latency | ${SUMMARY_PERCENTILES.map(([, , l]) => l).join(' | ')} | max |`);
  out.push(`|---|${SUMMARY_PERCENTILES.map(() => '---:').join('|')}|---:|`);
  for (const [label, l] of [['corrected', s.corrected], ['uncorrected', s.uncorrected]] as const) {
    out.push(`| ${label} | ${SUMMARY_PERCENTILES.map(([k]) => formatMs(l[k])).join(' | ')} | ${formatMs(l.max)} |`);
  }
  const errors = errorBreakdown(m);
  if (errors.length) {
    out.push('', '| error | count |', '|---|---:|');
    for (const e of errors) out.push(`| ${e.label} | ${e.count} |`);
  }
  for (const w of warnings(m)) out.push('', `> ⚠️ ${w}`);
  if (checks.length) {
    out.push('', '| SLO | result |', '|---|---|');
    for (const c of checks) out.push(`| \`${c.name}\` | ${c.pass ? '✅' : '❌'} ${c.message.replace(/\|/g, '\\|')} |`);
  }
  return out.join('\n') + '\n\n';
}
