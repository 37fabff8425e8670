// bench/batch-path: what a request costs on the HTTP thread between "decoded" and "answered", beyond inference
// (issue 9 item 3): the batch scheduler (serving/batcher.ts) and the worker pool (engine/pool.ts) with a trivial engine
// (test/serving/fake-engine.ts: y = 2x, no model), so nearly all the time measured is queueing, batching, messages,
// copies and promises. C concurrent submitters each send one MNIST-sized request ([1, 784] float32) at a time, in a
// closed loop, for each C in --concurrency. Reported per request: main-thread busy µs (event-loop utilisation, which
// excludes the worker threads), requests per second, rows per batch, and messages posted to workers per request.
//
// Two builds side by side in one run (--a DIR and --b DIR, each a tsc outDir holding src/ and test/), measured
// interleaved in short slices (best slice each), so a burst of someone else's load does not land on one build only:
//   git worktree add /tmp/before <commit> && (cd /tmp/before && npx tsc -p . --outDir /tmp/before/.build)
//   npx tsc -p . && node dist/bench/batch-path.js --a /tmp/before/.build --b dist
// Without --a/--b it measures this build alone.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

interface Build {
  label: string;
  dir: string;
  BatchScheduler: new (executor: unknown, config: unknown) => { submit(id: unknown, inputs: unknown): Promise<unknown>; close(): void };
  WorkerPool: new (o: { size: number; loaderModule: string }) => { load(key: string, dir: string): Promise<unknown>; close(): Promise<void> };
  defaultBatching: () => Record<string, unknown>;
}

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const thisBuild = path.resolve(here, '..');

async function loadBuild(label: string, dir: string): Promise<Build> {
  const imp = (p: string) => import(pathToFileURL(path.join(dir, p)).href);
  const [b, p, c] = await Promise.all([imp('src/core/serving/batcher.js'), imp('src/core/engine/pool.js'), imp('src/core/serving/config.js')]);
  return { label, dir, BatchScheduler: b.BatchScheduler, WorkerPool: p.WorkerPool, defaultBatching: c.defaultBatching };
}

/** Counts worker.postMessage calls made on this thread (messages to workers). */
let posted = 0;
const realPost = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
  posted++;
  return realPost.apply(this, args);
};

interface Slice {
  requests: number;
  busyUs: number;
  seconds: number;
  messages: number;
  batches: number;
}

async function measure(build: Build, model: string, concurrency: number, ms: number): Promise<Slice> {
  const pool = new build.WorkerPool({ size: 1, loaderModule: pathToFileURL(path.join(build.dir, 'test/serving/fake-engine.js')).href });
  await pool.load('m/1', model);
  const scheduler = new build.BatchScheduler(pool, { ...build.defaultBatching(), numBatchThreads: 1 });
  const id = { key: 'm/1', name: 'm', version: 1, signature: 'serving_default' };
  const row = new Float32Array(784).map((_, i) => (i % 255) / 255);
  const request = () => ({ x: { dtype: 'DT_FLOAT', shape: [1, 784], data: row.slice() } });
  // Warm up the path (JIT, worker start) before measuring.
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = 0; i < 50; i++) await scheduler.submit(id, request());
  }));
  let requests = 0;
  const batchesBefore = posted;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await scheduler.submit(id, request());
        requests++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  const messages = posted - batchesBefore;
  scheduler.close();
  await pool.close();
  return { requests, busyUs: elu.active * 1000, seconds, messages, batches: messages };
}

async function main(): Promise<void> {
  const a = arg('a');
  const b = arg('b');
  const builds = a && b ? [await loadBuild('A', path.resolve(a)), await loadBuild('B', path.resolve(b))] : [await loadBuild('this', thisBuild)];
  const concurrencies = (arg('concurrency', '1,8,64') ?? '').split(',').map(Number);
  const rounds = Number(arg('rounds', '5'));
  const sliceMs = Number(arg('slice-ms', '400'));
  const base = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-batch-path-'));
  const model = path.join(base, '1');
  mkdirSync(model);
  writeFileSync(path.join(model, 'fake.json'), JSON.stringify({ mul: 2 }));
  console.log(`# bench/batch-path: trivial engine, 1 worker, [1,784] float32 per request; best of ${rounds} slices of ${sliceMs} ms each`);
  console.log('# the machine is shared and noisy: compare builds only within one run');
  if (builds.length === 2) console.log(`# A = ${builds[0]!.dir}\n# B = ${builds[1]!.dir}`);
  try {
    for (const c of concurrencies) {
      const best = new Map<string, { usPerReq: number; rps: number; rowsPerBatch: number; msgsPerReq: number }>();
      for (let r = 0; r < rounds; r++) {
        for (const build of r % 2 === 0 ? builds : [...builds].reverse()) {
          const s = await measure(build, model, c, sliceMs);
          const cur = { usPerReq: s.busyUs / s.requests, rps: s.requests / s.seconds, rowsPerBatch: s.requests / Math.max(1, s.batches), msgsPerReq: s.messages / s.requests };
          const prev = best.get(build.label);
          if (!prev || cur.usPerReq < prev.usPerReq) best.set(build.label, cur);
        }
      }
      for (const build of builds) {
        const v = best.get(build.label)!;
        console.log(
          `C=${String(c).padEnd(3)} ${build.label.padEnd(4)} main-thread ${v.usPerReq.toFixed(1).padStart(6)} µs/request  ${v.rps.toFixed(0).padStart(6)} req/s  ` +
            `${v.rowsPerBatch.toFixed(1).padStart(5)} rows/batch  ${v.msgsPerReq.toFixed(3)} messages/request`,
        );
      }
      if (builds.length === 2) {
        const [x, y] = [best.get('A')!, best.get('B')!];
        console.log(`C=${String(c).padEnd(3)} B/A  main-thread µs/request ${(y.usPerReq / x.usPerReq).toFixed(2)}x   req/s ${(y.rps / x.rps).toFixed(2)}x`);
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
