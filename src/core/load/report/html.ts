// `--html FILE`: one self-contained page (inline SVG and CSS, no scripts or network) with latency and throughput
// over time, the percentile distribution (corrected vs uncorrected, HdrHistogram's log "1/(1-p)" axis), the summary
// and the SLO checks. The run's full JSON is embedded too, so the page alone can be merged or re-evaluated later.
import { percentileMs } from '../histogram.js';
import { errorBreakdown, SUMMARY_PERCENTILES, type Metrics } from '../metrics.js';
import type { Check } from '../slo.js';
import { formatMs } from '../units.js';
import { runLines, warnings } from './text.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

const W = 760;
const H = 280;
const PAD = { l: 60, r: 20, t: 20, b: 40 };

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= v) return k * p;
  return 10 * p;
}

/** A line chart as an SVG string. `xTicks` label positions in data units. */
function lineChart(title: string, series: Series[], xTicks: Array<[number, string]>, xMax: number, yLabel: string, yFormat: (v: number) => string = formatMs): string {
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map(([, y]) => (Number.isFinite(y) ? y : 0)))));
  const sx = (x: number) => PAD.l + (x / (xMax || 1)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => H - PAD.b - (y / yMax) * (H - PAD.t - PAD.b);
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${sy(y) + 4}" text-anchor="end">${y === 0 ? '0' : esc(yFormat(y))}</text>`);
  }
  for (const [x, label] of xTicks) {
    parts.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(x)}" y="${H - PAD.b + 16}" text-anchor="middle">${esc(label)}</text>`);
  }
  parts.push(`<text x="${PAD.l}" y="${H - 4}">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${pts}"/>`);
    parts.push(`<rect x="${W - PAD.r - 150}" y="${PAD.t + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${W - PAD.r - 134}" y="${PAD.t + 9 + i * 16}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `<figure><figcaption>${esc(title)}</figcaption>${parts.join('')}</figure>`;
}

function overTime(m: Metrics): string {
  const pick = (p: number) => m.timeline.map((b, i): [number, number] => [i + 0.5, percentileMs(b.hist, p)]);
  const n = m.timeline.length;
  const step = Math.max(1, Math.ceil(n / 10));
  const ticks: Array<[number, string]> = [];
  for (let s = 0; s <= n; s += step) ticks.push([s, `${s}s`]);
  return lineChart(
    'Corrected latency over time (per second of intended start)',
    [
      { name: 'p50', color: '#2b7bb9', points: pick(50) },
      { name: 'p99', color: '#e08214', points: pick(99) },
      { name: 'max', color: '#c0392b', points: m.timeline.map((b, i): [number, number] => [i + 0.5, b.hist.totalCount ? b.hist.maxValue / 1000 : NaN]) },
    ],
    ticks,
    n,
    'time since the end of warmup',
  );
}

function throughput(m: Metrics): string {
  const n = Math.max(m.timeline.length, m.throughput.length);
  const step = Math.max(1, Math.ceil(n / 10));
  const ticks: Array<[number, string]> = [];
  for (let s = 0; s <= n; s += step) ticks.push([s, `${s}s`]);
  return lineChart(
    'Requests per second: offered (by intended start) and answered ok (by arrival)',
    [
      { name: 'offered', color: '#2b7bb9', points: m.timeline.map((b, i): [number, number] => [i + 0.5, b.count]) },
      { name: 'answered ok', color: '#1a7f37', points: m.throughput.map((c, i): [number, number] => [i + 0.5, c]) },
      { name: 'errors', color: '#c0392b', points: m.timeline.map((b, i): [number, number] => [i + 0.5, b.errors]) },
    ],
    ticks,
    n,
    'time since the end of warmup',
    (v) => `${Number.isInteger(v) ? v : v.toFixed(1)}/s`,
  );
}

function distribution(m: Metrics): string {
  // x = log10(1 / (1 - p)): 0 at p0, 1 at p90, 2 at p99, 3 at p99.9 ...
  const count = Math.max(m.corrected.totalCount, 1);
  const xMax = Math.max(1, Math.min(6, Math.ceil(Math.log10(count))));
  const pts = (h: Metrics['corrected']): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    for (let x = 0; x <= xMax + 1e-9; x += 0.05) out.push([x, percentileMs(h, 100 * (1 - 10 ** -x))]);
    return out;
  };
  const labels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%', '99.9999%'];
  const ticks: Array<[number, string]> = labels.slice(0, xMax + 1).map((l, i) => [i, l]);
  return lineChart(
    'Latency by percentile',
    [
      { name: 'corrected', color: '#c0392b', points: pts(m.corrected) },
      { name: 'uncorrected', color: '#2b7bb9', points: pts(m.uncorrected) },
    ],
    ticks,
    xMax,
    'percentile',
  );
}

export function renderHtml(m: Metrics, checks: Check[] = []): string {
  const s = m.summary();
  const pass = checks.every((c) => c.pass);
  const rows = (['corrected', 'uncorrected'] as const)
    .map((k) => `<tr><th>${k}</th>${SUMMARY_PERCENTILES.map(([p]) => `<td>${esc(formatMs(s[k][p]))}</td>`).join('')}<td>${esc(formatMs(s[k].max))}</td><td>${esc(formatMs(s[k].mean))}</td></tr>`)
    .join('');
  const errors = errorBreakdown(m);
  const json = JSON.stringify(m.toJSON()).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tfsvc bench: ${esc(m.info.target)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:800px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f6f6f6}
svg text{font:11px sans-serif;fill:#444}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.3em}
.pass{color:#1a7f37}.fail{color:#cf222e}.warn{background:#fff8c5;padding:.5em}ul{padding-left:1.2em}
</style></head><body>
<h1>tfsvc bench${checks.length ? ` <span class="${pass ? 'pass' : 'fail'}">${pass ? 'SLO met' : 'SLO failed'}</span>` : ''}</h1>
<ul>${runLines(m).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
${warnings(m).map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join('')}
<table><tr><th>latency</th>${SUMMARY_PERCENTILES.map(([, , l]) => `<th>${l}</th>`).join('')}<th>max</th><th>mean</th></tr>${rows}</table>
${checks.length ? `<h2>SLO</h2><ul>${checks.map((c) => `<li class="${c.pass ? 'pass' : 'fail'}">${c.pass ? '✔' : '✘'} ${esc(c.message)}</li>`).join('')}</ul>` : ''}
${errors.length ? `<h2>Errors</h2><table><tr><th>error</th><th>count</th><th>example</th></tr>${errors.map((e) => `<tr><td>${esc(e.label)}</td><td>${e.count}</td><td style="text-align:left">${esc((e.sample ?? '').slice(0, 200))}</td></tr>`).join('')}</table>` : ''}
${overTime(m)}
${throughput(m)}
${distribution(m)}
<p>Corrected latency counts from when the schedule meant each request to start, so a stalled server cannot hide the
requests it delayed (coordinated omission); uncorrected latency counts from when the request was actually sent.</p>
<script type="application/json" id="tfsvc-bench-result">${json}</script>
</body></html>
`;
}
