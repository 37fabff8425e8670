// The SLO kit's Prometheus rules, checked by Prometheus's own tool: `promtool check rules` on the generated file
// (syntax, PromQL, templates), and `promtool test rules` replaying series through the rules to show which alerts fire:
// a model whose requests are 3% slow burns a 99.9% budget 30x and pages; a healthy one never alerts; a model that
// recovered stops paging at once (short windows) while the slower ticket alert still holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { sloRules } from '../../src/core/deploy/slo-rules.js';
import { parseLatencySlo } from '../../src/core/deploy/slo-spec.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;
const needsPromtool = promtool ? {} : { skip: 'promtool not found (Debian package "prometheus"): skipping the rule checks' };
if (!promtool) process.stderr.write('# SKIP promtool not found (Debian package "prometheus")\n');

function run(args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const slo = parseLatencySlo('p99<100ms@99.9%');

test('promtool check rules accepts the generated rule file', needsPromtool, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-rules-'));
  try {
    writeFileSync(path.join(dir, 'rules.yaml'), stringify(sloRules([slo, parseLatencySlo('p99.9<250ms')])));
    const r = run(['check', 'rules', 'rules.yaml'], dir);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: \d+ rules found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('promtool test rules: slow traffic pages and tickets, healthy traffic never alerts, recovery stops the pages', needsPromtool, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-rules-'));
  try {
    // Annotations hold $value templates (checked by `check rules` above); the unit test compares alert labels only.
    const rules = sloRules([slo]);
    for (const g of rules.groups) for (const r of g.rules) if ('alert' in r) r.annotations = {};
    writeFileSync(path.join(dir, 'rules.yaml'), stringify(rules));
    const series = (model: string, le: string | null, values: string) => ({
      series: `tfsvc_request_duration_seconds_${le ? 'bucket' : 'count'}{job="tfsvc",model_name="${model}",API="Predict",entrypoint="REST"${le ? `,le="${le}"` : ''}}`,
      values,
    });
    // One sample a minute for 4 hours; 100 requests a minute per model.
    const inputs = [
      series('healthy', '0.1', '0+100x240'),
      series('healthy', null, '0+100x240'),
      series('slow', '0.1', '0+97x240'), // 3% slower than 100 ms: 30x the 0.1% budget
      series('slow', null, '0+100x240'),
      series('recovered', '0.1', '0+97x180 17560+100x59'), // slow for 3 hours, then healthy for the last hour
      series('recovered', null, '0+100x240'),
    ];
    const alert = (model: string, severity: string) => ({
      exp_labels: { job: 'tfsvc', model_name: model, slo: slo.text, severity },
    });
    const at = (name: string, expected: object[]) => ({ eval_time: '240m', alertname: name, exp_alerts: expected });
    const testFile = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: inputs,
          alert_rule_test: [
            at('TfsvcLatencyBudgetBurnFast', [alert('slow', 'page')]),
            at('TfsvcLatencyBudgetBurnHigh', [alert('slow', 'page')]),
            at('TfsvcLatencyBudgetBurnMedium', [
              alert('recovered', 'ticket'),
              alert('slow', 'ticket'),
            ]),
          ],
          promql_expr_test: [
            {
              expr: 'round(tfsvc:request_latency_slo_slow:ratio_rate1h * 1000)',
              eval_time: '120m',
              exp_samples: [
                { labels: `{job="tfsvc",model_name="healthy",slo="${slo.text}"}`, value: 0 },
                { labels: `{job="tfsvc",model_name="recovered",slo="${slo.text}"}`, value: 30 },
                { labels: `{job="tfsvc",model_name="slow",slo="${slo.text}"}`, value: 30 },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(path.join(dir, 'test.yaml'), stringify(testFile));
    const r = run(['test', 'rules', 'test.yaml'], dir);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
