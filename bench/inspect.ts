// How long `tfsvc inspect --all --json` takes on the largest model under ../shared/models, next to the cost of merely
// starting Node (`node -e 0`). Runs are interleaved (inspect, baseline, inspect, ...) so machine noise hits both
// alike; prints each median and their ratio. Usage: node dist/bench/inspect.js [runs=15] [model dir]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const cliModule = pathToFileURL(path.resolve(here, '../src/cli.js')).href;

function findRepoRoot(): string {
  let dir = here;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** The SavedModel directory (holding saved_model.pb) with the most bytes on disk. */
function largestModel(root: string): string {
  let best = '';
  let bestBytes = -1;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (existsSync(path.join(p, 'saved_model.pb'))) {
        const b = dirBytes(p);
        if (b > bestBytes) [best, bestBytes] = [p, b];
      } else walk(p);
    }
  };
  walk(root);
  return best;
}

function timeRun(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const runs = Number(process.argv[2] ?? 15);
const model = process.argv[3] ?? largestModel(path.resolve(findRepoRoot(), '..', 'shared', 'models'));
if (!model || !existsSync(model)) {
  console.error('bench/inspect: no model given and ../shared/models not found; pass a SavedModel directory');
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-bench-'));
const entry = path.join(tmp, 'tfsvc.mjs');
writeFileSync(entry, `import(${JSON.stringify(cliModule)}).then((m) => m.main(process.argv));\n`);
try {
  const inspectArgs = [entry, 'inspect', model, '--all', '--json'];
  const baselineArgs = ['-e', '0'];
  timeRun(inspectArgs); // warm the file cache once
  const inspect: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < runs; i++) {
    inspect.push(timeRun(inspectArgs));
    baseline.push(timeRun(baselineArgs));
  }
  const mi = median(inspect);
  const mb = median(baseline);
  console.log(`model: ${model} (${(dirBytes(model) / 1024).toFixed(0)} KiB on disk)`);
  console.log(`runs: ${runs} each, interleaved; node ${process.version}; ${os.cpus().length} CPUs`);
  console.log(`tfsvc inspect --all --json  median ${mi.toFixed(1)} ms  (min ${Math.min(...inspect).toFixed(1)}, max ${Math.max(...inspect).toFixed(1)})`);
  console.log(`node -e 0                   median ${mb.toFixed(1)} ms  (min ${Math.min(...baseline).toFixed(1)}, max ${Math.max(...baseline).toFixed(1)})`);
  console.log(`ratio inspect / node start: ${(mi / mb).toFixed(2)}x`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
