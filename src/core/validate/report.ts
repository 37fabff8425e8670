// The validation report: what `tfsvc validate` prints (a table) or emits with --json (a stable document).
// JSON contract (schema 1): { schema: 1, target, ok, versions: [{ model, version, dir, ok, checks: [{ check, status,
// detail, ms? }] }], summary: { versions, passed, failed, warnings } }. Fields are only ever added, never renamed.
import Table from 'cli-table3';
import chalk from 'chalk';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /** `layout`, `checksums`, `ops`, `load`, `inference:<signature>`, `golden:<signature>`, ... */
  check: string;
  status: CheckStatus;
  detail: string;
  ms?: number;
}

export interface VersionReport {
  /** Model name (the base directory's name) when validating a base directory or repository. */
  model?: string;
  version?: number;
  dir: string;
  ok: boolean;
  checks: CheckResult[];
}

export interface ValidationReport {
  schema: 1;
  target: string;
  ok: boolean;
  versions: VersionReport[];
  summary: { versions: number; passed: number; failed: number; warnings: number };
}

export function finishReport(target: string, versions: VersionReport[]): ValidationReport {
  for (const v of versions) v.ok = v.checks.every((c) => c.status !== 'fail');
  const all = versions.flatMap((v) => v.checks);
  return {
    schema: 1,
    target,
    ok: versions.length > 0 && versions.every((v) => v.ok),
    versions,
    summary: {
      versions: versions.length,
      passed: all.filter((c) => c.status === 'pass').length,
      failed: all.filter((c) => c.status === 'fail').length,
      warnings: all.filter((c) => c.status === 'warn').length,
    },
  };
}

const MARK: Record<CheckStatus, (s: string) => string> = {
  pass: (s) => chalk.green(s),
  fail: (s) => chalk.red(s),
  warn: (s) => chalk.yellow(s),
  skip: (s) => chalk.gray(s),
};

/** Human form: one table per version, then a one-line verdict. */
export function renderReport(r: ValidationReport, width = process.stdout.columns || 120): string {
  const lines: string[] = [];
  for (const v of r.versions) {
    const title = [v.model, v.version !== undefined ? `version ${v.version}` : undefined].filter(Boolean).join(' ') || v.dir;
    lines.push(`${chalk.bold(title)}  ${chalk.gray(v.dir)}`);
    const detailWidth = Math.max(30, Math.min(100, width - 42));
    const table = new Table({ head: ['check', 'result', 'detail'], style: { head: [], border: [] }, colWidths: [30, 8, detailWidth], wordWrap: true });
    for (const c of v.checks) table.push([c.check, MARK[c.status](c.status.toUpperCase()), c.detail + (c.ms !== undefined ? chalk.gray(` (${fmtMs(c.ms)})`) : '')]);
    lines.push(table.toString());
  }
  const s = r.summary;
  const verdict = r.ok ? chalk.green('valid') : chalk.red('INVALID');
  lines.push(`${verdict}: ${s.versions} version${s.versions === 1 ? '' : 's'}, ${s.passed} check${s.passed === 1 ? '' : 's'} passed, ${s.failed} failed, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
