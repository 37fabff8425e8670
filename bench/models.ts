// Corpus check: `tfsvc validate` over every SavedModel under a directory, one row per (model, signature):
// pass/fail, the first failing check's reason, load ms (graph conversion + weights, once per model version) and
// inference ms (the generated-input run of that signature), then `N passed, M failed`. A model whose base directory
// has a known_answers.json (validate --golden format, as ../shared/models/wild/* do) is also checked against it.
//
//   npm run corpus [-- DIR] [--backend wasm|cpu] [--json FILE]      (DIR defaults to ../shared/models)
//
// Timings are wall-clock on this machine, for spotting outliers, not benchmarks: on a shared machine they are noisy.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../src/core/engine/types.js';
import { readGolden, type Golden } from '../src/core/validate/golden.js';
import type { CheckResult } from '../src/core/validate/report.js';
import { validateVersion } from '../src/core/validate/validate.js';
import { sharedModelsDir } from '../test/helpers/shared-models.js';

export interface CorpusRow {
  model: string;
  signature: string;
  ok: boolean;
  reason: string;
  loadMs: number | null;
  inferenceMs: number | null;
}

/** SavedModel directories under `root` (a directory holding saved_model.pb or .pbtxt), sorted. */
export function findSavedModels(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    if (existsSync(path.join(dir, 'saved_model.pb')) || existsSync(path.join(dir, 'saved_model.pbtxt'))) {
      out.push(dir);
      return;
    }
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'variables') walk(path.join(dir, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return out.sort();
}

/** known_answers.json beside the version directory (the model's base directory) or inside it. */
async function goldenFor(dir: string): Promise<Golden | undefined> {
  for (const f of [path.join(dir, 'known_answers.json'), path.join(path.dirname(dir), 'known_answers.json')]) {
    if (existsSync(f)) return readGolden(f);
  }
  return undefined;
}

function shortReason(c: CheckResult | undefined): string {
  if (!c) return '';
  const line = c.detail.split('\n')[0]!.replace(/\s+/g, ' ');
  return `${c.check}: ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`;
}

/** Validates one SavedModel; one row per signature (one row for the model when it fails before signatures exist). */
export async function checkModel(root: string, dir: string, backend: BackendName): Promise<CorpusRow[]> {
  const model = path.relative(root, dir) || path.basename(dir);
  let checks: CheckResult[];
  try {
    checks = (await validateVersion(dir, { backend, golden: await goldenFor(dir) })).checks;
  } catch (err) {
    return [{ model, signature: '-', ok: false, reason: (err as Error).message.split('\n')[0]!, loadMs: null, inferenceMs: null }];
  }
  const load = checks.find((c) => c.check === 'load');
  const signatures = [...new Set(checks.map((c) => /^(?:ops|inference|golden):(.+)$/.exec(c.check)?.[1]).filter((s): s is string => !!s))];
  const modelFailure = checks.find((c) => c.status === 'fail' && !c.check.includes(':') && c.check !== 'load');
  if (signatures.length === 0) {
    const failed = checks.find((c) => c.status === 'fail');
    return [{ model, signature: '-', ok: !failed, reason: shortReason(failed), loadMs: load?.ms ?? null, inferenceMs: null }];
  }
  return signatures.map((signature) => {
    const own = checks.filter((c) => c.check.endsWith(`:${signature}`));
    const failed = own.find((c) => c.status === 'fail') ?? modelFailure;
    return {
      model,
      signature,
      ok: !failed,
      reason: shortReason(failed),
      loadMs: load?.ms ?? null,
      inferenceMs: own.find((c) => c.check === `inference:${signature}`)?.ms ?? null,
    };
  });
}

function table(rows: CorpusRow[]): string {
  const head = ['model', 'signature', 'result', 'load ms', 'inference ms', 'reason'];
  const cells = rows.map((r) => [r.model, r.signature, r.ok ? 'pass' : 'FAIL', r.loadMs?.toFixed(0) ?? '-', r.inferenceMs?.toFixed(1) ?? '-', r.reason]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 5 ? 0 : c[i]!.length))));
  const line = (c: string[]) => `| ${c.map((v, i) => (i === 5 ? v : v.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => '-'.repeat(i === 5 ? 8 : w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let backend: BackendName = 'wasm';
  let json: string | undefined;
  let root = sharedModelsDir;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--backend') backend = args[++i] as BackendName;
    else if (args[i] === '--json') json = args[++i];
    else root = path.resolve(args[i]!);
  }
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    process.stderr.write(`corpus: ${root} is not a directory\n`);
    process.exit(2);
  }
  const rows: CorpusRow[] = [];
  for (const dir of findSavedModels(root)) {
    const r = await checkModel(root, dir, backend);
    rows.push(...r);
    for (const row of r) process.stderr.write(`${row.ok ? 'pass' : 'FAIL'} ${row.model} ${row.signature}\n`);
  }
  process.stdout.write(`${table(rows)}\n\n`);
  const passed = rows.filter((r) => r.ok).length;
  process.stdout.write(`corpus (${backend}, ${path.relative(process.cwd(), root) || root}): ${passed} passed, ${rows.length - passed} failed\n`);
  if (json) writeFileSync(json, `${JSON.stringify({ root, backend, rows }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) await main();
