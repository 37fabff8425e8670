// bench/gpu: webgpu against wasm, side by side in one run.
//  1. Engine throughput (inferences/s) vs batch size (1, 8, 32, 128, 512) through the worker pool serving uses:
//     wasm with 1 worker, wasm with N workers (one per core), webgpu with one engine per adapter, two batches deep.
//     Models: the Keras 3 CNN and the largest shared model that runs on wasm. Prints webgpu / wasm(N) per batch size.
//  2. Serve level: `tfsvc serve --backend wasm` and `--backend webgpu` (GPU batching defaults), each searched with
//     `tfsvc bench --find-max --slo 'p99<20ms'` for the highest rate meeting P99 < 20 ms.
// Writes everything as JSON (--out, default bench-gpu.json). Nothing here is specific to one machine: on a Linux
// NVIDIA host with its Vulkan driver the same command measures the GPU (docs/engine.md, "WebGPU on a real GPU").
//
// Usage (after `npm run build`):
//   node dist/bench/gpu.js [--models DIR,DIR] [--batches 1,8,32,128,512] [--seconds 2] [--serve-seconds 3]
//                          [--unknown-dim 32] [--no-serve] [--out bench-gpu.json]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool } from '../src/core/engine/pool.js';
import { generateInputs } from '../src/core/engine/generate-inputs.js';
import { seededRandom } from '../src/core/prng.js';
import { resolveModelDir } from '../src/core/savedmodel/layout.js';
import type { HostTensor, SignatureInfo } from '../src/core/engine/types.js';
import { defaultBatching } from '../src/core/serving/config.js';
import { planEngines } from '../src/core/serving/gpu-plan.js';

const here = fileURLToPath(import.meta.url);
const root = (() => {
  let d = path.dirname(here);
  while (!existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
  return d;
})();
const bin = path.join(root, 'bin', 'tfsvc');

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1];
}

const BATCHES = (arg('batches', '1,8,32,128,512') as string).split(',').map(Number);
const SECONDS = Number(arg('seconds', '2'));
const SERVE_SECONDS = Number(arg('serve-seconds', '3'));
const UNKNOWN_DIM = Number(arg('unknown-dim', '32'));
const CORES = os.availableParallelism();
const shared = path.resolve(root, '..', 'shared', 'models');

interface Config {
  label: string;
  backend: 'wasm' | 'webgpu';
  size: number;
  depth: number;
  gpuAdapters?: string[];
}

/** Dims of every input at `batch` rows, with unknown inner dims set to --unknown-dim. */
function inputsFor(sig: SignatureInfo, batch: number): Record<string, HostTensor> {
  return generateInputs(sig.inputs, { batch, unknownDim: UNKNOWN_DIM, values: seededRandom(batch) }).inputs;
}

function clone(inputs: Record<string, HostTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(inputs)) {
    out[k] = { ...t, shape: [...t.shape], data: Array.isArray(t.data) ? [...t.data] : (t.data.slice() as typeof t.data) };
  }
  return out;
}

/** Inferences/s of `pool` on `batch`-row requests, keeping every engine slot busy for SECONDS (after one warm run). */
async function throughput(pool: WorkerPool, inflight: number, sig: SignatureInfo, batch: number): Promise<number | string> {
  const inputs = inputsFor(sig, batch);
  try {
    await pool.run('m', sig.key, clone(inputs)); // compiles (WebGPU pipelines, wasm kernels) outside the clock
  } catch (err) {
    return `error: ${(err as Error).message.slice(0, 120)}`;
  }
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  let rows = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      await pool.run('m', sig.key, clone(inputs));
      rows += batch;
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return rows / ((performance.now() - t0) / 1000);
}

/** The Keras 3 CNN and the largest other shared model that runs on wasm (by size on disk). */
async function pickModels(): Promise<string[]> {
  const given = arg('models');
  if (given) return given.split(',').map((m) => resolveModelDir(m).dir);
  const cnn = resolveModelDir(path.join(shared, 'keras', 'mnist_cnn_keras3')).dir;
  const sizeOf = (d: string): number => readdirSync(d, { recursive: true, withFileTypes: true }).reduce((n, e) => (e.isFile() ? n + statSync(path.join(e.parentPath, e.name)).size : n), 0);
  const candidates: { dir: string; size: number }[] = [];
  for (const group of readdirSync(shared)) {
    const g = path.join(shared, group);
    if (!statSync(g).isDirectory()) continue;
    for (const name of readdirSync(g)) {
      try {
        const dir = resolveModelDir(path.join(g, name)).dir;
        if (dir !== cnn) candidates.push({ dir, size: sizeOf(dir) });
      } catch {
        // not a model
      }
    }
  }
  candidates.sort((a, b) => b.size - a.size);
  const probe = new WorkerPool({ size: 1 });
  try {
    for (const c of candidates) {
      try {
        const loaded = await probe.load('probe', c.dir, { backend: 'wasm', signatures: ['serving_default'] });
        await probe.run('probe', 'serving_default', inputsFor(loaded.signatures.serving_default!, 1));
        await probe.unload('probe');
        return [cnn, c.dir];
      } catch {
        await probe.unload('probe').catch(() => undefined);
      }
    }
  } finally {
    await probe.close();
  }
  return [cnn];
}

const fmt = (v: number | string | undefined): string => (typeof v === 'number' ? v.toFixed(0) : v === undefined ? '-' : 'error');

async function engineSection(models: string[], configs: Config[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const dir of models) {
    console.log(`\n${path.relative(shared, dir) || dir}: inferences/s (unknown inner dims ${UNKNOWN_DIM}; ${SECONDS}s per cell)`);
    const table: Record<string, Record<number, number | string>> = {};
    for (const c of configs) {
      const pool = new WorkerPool({ size: c.size, depth: c.depth, gpuAdapters: c.gpuAdapters });
      table[c.label] = {};
      try {
        const loaded = await pool.load('m', dir, { backend: c.backend, signatures: ['serving_default'] });
        const sig = loaded.signatures.serving_default!;
        for (const b of BATCHES) table[c.label]![b] = await throughput(pool, c.size * c.depth, sig, b);
      } catch (err) {
        for (const b of BATCHES) table[c.label]![b] = `error: ${(err as Error).message.slice(0, 120)}`;
      } finally {
        await pool.close();
      }
    }
    const wasmN = configs.find((c) => c.backend === 'wasm' && c.size === CORES)?.label ?? configs[0]!.label;
    const gpu = configs.find((c) => c.backend === 'webgpu')?.label;
    console.log(['batch', ...configs.map((c) => c.label), gpu ? 'webgpu/wasm N' : ''].map((s) => s.padStart(16)).join(''));
    for (const b of BATCHES) {
      const g = gpu ? table[gpu]![b] : undefined;
      const w = table[wasmN]![b];
      const ratio = typeof g === 'number' && typeof w === 'number' ? (g / w).toFixed(2) : '';
      console.log([String(b), ...configs.map((c) => fmt(table[c.label]![b])), ratio].map((s) => s.padStart(16)).join(''));
    }
    for (const [label, row] of Object.entries(table)) for (const [b, v] of Object.entries(row)) if (typeof v === 'string') console.log(`  ${label} batch ${b}: ${v}`);
    results.push({ model: dir, unknownDim: UNKNOWN_DIM, secondsPerCell: SECONDS, inferencesPerSecond: table });
  }
  return results;
}

/** Starts `tfsvc serve` on free ports; resolves with the REST port once the model is AVAILABLE. */
function startServe(dir: string, backend: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const base = path.dirname(dir);
    const child = spawn(process.execPath, [bin, 'serve', base, '--model_name', 'm', '--backend', backend, '--rest_api_port', '0', '--port', '0', '--host', '127.0.0.1', '--file_system_poll_wait_seconds', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let port = 0;
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = out.match(/REST API listening on [^:\s]+:(\d+)/);
      if (m) port = Number(m[1]);
      if (port && /AVAILABLE at/.test(out)) resolve({ child, port });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve --backend ${backend} exited (${code}): ${out.slice(-400)}`)));
  });
}

/** Highest open-loop rate meeting P99 < 20 ms, from `tfsvc bench --find-max`. */
function findMax(port: number): Promise<{ rate?: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'bench', `http://127.0.0.1:${port}/v1/models/m:predict`, '--find-max', '--qps', '50', '--slo', 'p99<20ms', '--duration', `${SERVE_SECONDS}s`, '--warmup', '1s', '--unknown-dim', String(UNKNOWN_DIM), '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', () => {
      const m = output.match(/highest rate meeting the SLO: ([\d.,]+)/);
      resolve({ rate: m ? Number(m[1]!.replace(/,/g, '')) : undefined, output: output.slice(-600) });
    });
  });
}

async function serveSection(models: string[], backends: string[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const dir of models) {
    const row: Record<string, number | undefined> = {};
    for (const backend of backends) {
      let server: { child: ChildProcess; port: number } | undefined;
      try {
        server = await startServe(dir, backend);
        const r = await findMax(server.port);
        row[backend] = r.rate;
        if (r.rate === undefined) console.log(`  serve ${backend}: no rate met P99 < 20 ms: ${r.output.split('\n').filter(Boolean).slice(-2).join(' | ')}`);
      } catch (err) {
        console.log(`  serve ${backend}: ${(err as Error).message}`);
      } finally {
        server?.child.kill('SIGTERM');
        if (server) await new Promise((r) => server!.child.once('exit', r));
      }
    }
    const ratio = row.webgpu !== undefined && row.wasm ? (row.webgpu / row.wasm).toFixed(2) : 'n/a';
    console.log(`serve ${path.relative(shared, dir)}: highest req/s with P99 < 20 ms: wasm ${row.wasm ?? '-'}, webgpu ${row.webgpu ?? '-'}, webgpu/wasm ${ratio}`);
    results.push({ model: dir, maxRateP99Under20ms: row });
  }
  return results;
}

async function main(): Promise<void> {
  const models = await pickModels();
  const configs: Config[] = [
    { label: 'wasm 1 worker', backend: 'wasm', size: 1, depth: 1 },
    { label: `wasm ${CORES} workers`, backend: 'wasm', size: CORES, depth: 1 },
  ];
  let adapterNote = 'no WebGPU adapter';
  try {
    const plan = await planEngines('webgpu', defaultBatching());
    configs.push({ label: 'webgpu', backend: 'webgpu', size: plan.pool.size, depth: plan.pool.depth, gpuAdapters: plan.pool.gpuAdapters });
    adapterNote = plan.note ?? '';
  } catch (err) {
    adapterNote = `webgpu unavailable: ${(err as Error).message}`;
  }
  console.log(`bench/gpu: node ${process.version}, ${CORES} cores (${os.cpus()[0]?.model ?? '?'}), ${adapterNote}`);
  const engine = await engineSection(models, configs);
  const serve = arg('no-serve') === undefined && !process.argv.includes('--no-serve')
    ? await serveSection(models, configs.some((c) => c.backend === 'webgpu') ? ['wasm', 'webgpu'] : ['wasm'])
    : [];
  const out = arg('out', 'bench-gpu.json')!;
  writeFileSync(out, JSON.stringify({ node: process.version, cores: CORES, cpu: os.cpus()[0]?.model, adapters: adapterNote, batches: BATCHES, engine, serve }, null, 2));
  console.log(`\nwrote ${out}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
