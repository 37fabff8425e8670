// Writes the report files a run asked for (--json, --junit, --html, --openmetrics) and appends the markdown summary to
// $GITHUB_STEP_SUMMARY when that variable is set (GitHub Actions). All read the same Metrics and checks.
import { appendFileSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Metrics } from './metrics.js';
import { renderHtml } from './report/html.js';
import { renderJUnit } from './report/junit.js';
import { renderMarkdown } from './report/markdown.js';
import { renderOpenMetrics } from './report/openmetrics.js';
import type { Check } from './slo.js';

export interface OutputOptions {
  json?: string;
  junit?: string;
  html?: string;
  openmetrics?: string;
  strict?: boolean;
  /** Defaults to process.env.GITHUB_STEP_SUMMARY. */
  stepSummary?: string;
}

/** Whether `file` is a regular file or absent (not /dev/stdout, a pipe). */
function plainFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return true;
  }
}

/**
 * Writes through a temporary file and a rename, so a reader waiting for the file (`bench merge` of shards on a
 * shared volume, docs/deploy.md) never sees half of it. Devices and pipes are written directly.
 */
function write(file: string, text: string, flag: string): void {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    if (!plainFile(file)) {
      writeFileSync(file, text);
      return;
    }
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

/** Writes every requested output; returns the paths written, for the command to mention. */
export function writeOutputs(m: Metrics, checks: Check[], o: OutputOptions): string[] {
  const written: string[] = [];
  if (o.json) {
    write(o.json, JSON.stringify(resultJson(m, checks), null, 1) + '\n', '--json');
    written.push(o.json);
  }
  if (o.junit) {
    write(o.junit, renderJUnit(m, checks, o.strict), '--junit');
    written.push(o.junit);
  }
  if (o.openmetrics) {
    write(o.openmetrics, renderOpenMetrics(m, checks), '--openmetrics');
    written.push(o.openmetrics);
  }
  if (o.html) {
    write(o.html, renderHtml(m, checks), '--html');
    written.push(o.html);
  }
  const summary = o.stepSummary ?? process.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    try {
      appendFileSync(summary, renderMarkdown(m, checks));
      written.push(summary);
    } catch (err) {
      process.stderr.write(`tfsvc: warning: cannot append to GITHUB_STEP_SUMMARY ${summary}: ${(err as Error).message}\n`);
    }
  }
  return written;
}

/** One SLO check as the --json result carries it: what CI steps read to see pass/fail without parsing text. */
export interface SloJson {
  name: string;
  op: Check['op'];
  threshold: number;
  measured: number | null;
  unit?: Check['unit'];
  pass: boolean;
  message: string;
}

/**
 * The --json document: the mergeable metrics plus every SLO check (threshold, measured value, verdict) and the run's
 * verdict, as k6 puts its thresholds in its summary. `bench merge` reads only the metrics part and checks again.
 */
export function resultJson(m: Metrics, checks: Check[]): ReturnType<Metrics['toJSON']> & { slos: SloJson[]; verdict: 'pass' | 'fail' } {
  const slos = checks.map((c) => ({
    name: c.name,
    op: c.op,
    threshold: c.limit,
    measured: Number.isFinite(c.actual) ? c.actual : null,
    ...(c.unit ? { unit: c.unit } : {}),
    pass: c.pass,
    message: c.message,
  }));
  return { ...m.toJSON(), slos, verdict: checks.every((c) => c.pass) ? 'pass' : 'fail' };
}
