// JUnit XML for CI systems that show test results: one test case per SLO check (a failure element when it failed),
// plus one for the run itself that fails when the generator fell behind its schedule.
import type { Metrics } from '../metrics.js';
import type { Check } from '../slo.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderJUnit(m: Metrics, checks: Check[], strict = false): string {
  const seconds = (m.durationMs / 1000).toFixed(3);
  const cases: string[] = [];
  const runFailed = strict && m.health?.behind === true;
  cases.push(
    `    <testcase classname="tfsvc.bench" name="run ${esc(m.info.schedule)}" time="${seconds}">` +
      (runFailed ? `<failure message="load generator fell behind its schedule"/>` : '') +
      `<system-out>${esc(`${m.requests} requests, ${m.errors} errors`)}</system-out></testcase>`,
  );
  for (const c of checks) {
    cases.push(
      `    <testcase classname="tfsvc.bench.slo" name="${esc(c.name)}" time="0">` +
        (c.pass ? '' : `<failure message="${esc(c.message)}"/>`) +
        '</testcase>',
    );
  }
  const failures = checks.filter((c) => !c.pass).length + (runFailed ? 1 : 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tfsvc bench" tests="${cases.length}" failures="${failures}" time="${seconds}">`,
    `  <testsuite name="${esc(m.info.target)}" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds}" timestamp="${esc(m.info.startedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
