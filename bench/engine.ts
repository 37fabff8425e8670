// Engine benchmark on the Keras 3 MNIST CNN (../shared/models/keras/mnist_cnn_keras3/1) with real digits:
//   1. graph optimisations, side by side: none / identity removal / + constant folding / + fusion (wasm, batch 32);
//   2. inferences per second for batch 1, 8, 32, 128 on the wasm and cpu backends (this thread);
//   3. the serving engineer's worker pool (src/core/engine/pool.ts) with 1 vs 2 workers (wasm, batch 32);
//   4. recurrent models (../shared/models/wild/msft_lstm, 5 steps, and sms_spam_lstm, 910 steps): inferences/s at batch
//      1 and 32 with tfsvc's recurrent loop op (unrolled, and as a loop) vs tfjs-converter's own While, wasm and cpu;
//   5. the cost of naming failing nodes (src/core/engine/node-trace.ts): the CNN's GraphModel with and without the
//      node trace, executed directly (wasm, batch 1 and 32).
// Variants compared with each other are measured interleaved, in ROUNDS short slices (BENCH_SECONDS per variant in
// total, default 1), and each reports its best slice: on a shared machine that keeps a burst of someone else's load
// from landing on one variant only. Numbers are throughput on this machine, compared only within one run.
//
//   npx tsc -p . --outDir .build/engine && [BENCH_SECTIONS=4] node .build/engine/bench/engine.js [MODEL_DIR]
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { initBackend } from '../src/core/engine/backend.js';
import { loadModel, type EngineModel } from '../src/core/engine/model.js';
import { traceNodes } from '../src/core/engine/node-trace.js';
import { buildExecutableGraph, openModelSource } from '../src/core/graph/build.js';
import type { HostTensor } from '../src/core/engine/types.js';
import type { OptimizeOptions } from '../src/core/graph/build.js';
import { firstDigits } from '../test/engine/mnist-digits.js';
import { sharedModelsDir } from '../test/helpers/shared-models.js';

const modelDir = process.argv[2] ?? path.join(sharedModelsDir, 'keras', 'mnist_cnn_keras3', '1');
const seconds = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = 5;
const digits = firstDigits(13);

function batch(n: number): HostTensor {
  const data = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) data.set(digits.images.subarray((i % digits.count) * 784, (i % digits.count + 1) * 784), i * 784);
  return { dtype: 'DT_FLOAT', shape: [n, 28, 28, 1], data };
}

/** Runs `once` repeatedly for `ms`; returns inferences (rows) per second. */
async function slice(rows: number, ms: number, once: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const end = t0 + ms;
  let n = 0;
  do {
    await once();
    n++;
  } while (performance.now() < end);
  return (n * rows) / ((performance.now() - t0) / 1000);
}

/** Best-of-ROUNDS throughput of each variant, measured interleaved after one warm-up run each. */
async function compare(variants: { rows: number; once: () => Promise<unknown> }[]): Promise<number[]> {
  for (const v of variants) await v.once();
  const best = variants.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, v] of variants.entries()) best[i] = Math.max(best[i]!, await slice(v.rows, (seconds * 1000) / ROUNDS, v.once));
  }
  return best;
}

const fmt = (x: number) => x.toFixed(0).padStart(9);

async function optimisations(): Promise<void> {
  console.log('\n1. graph optimisations (wasm, batch 32), inferences/s');
  const configs: [string, false | OptimizeOptions][] = [
    ['none', false],
    ['identities', { identities: true, fold: false, fuse: false }],
    ['+ folding', { identities: true, fold: true, fuse: false }],
    ['+ fusion (default)', { identities: true, fold: true, fuse: true }],
  ];
  const input = batch(32);
  const models: EngineModel[] = [];
  for (const [, optimize] of configs) models.push(await loadModel(modelDir, { backend: 'wasm', optimize, signatures: ['serving_default'] }));
  const alias = Object.keys(models[0]!.signatures.serving_default!.inputs)[0]!;
  const ips = await compare(models.map((m) => ({ rows: 32, once: () => m.run('serving_default', { [alias]: input }) })));
  configs.forEach(([name], i) => {
    const nodes = models[i]!.graphs.serving_default!.stats.nodes;
    console.log(`   ${name.padEnd(20)} ${String(nodes).padStart(3)} nodes ${fmt(ips[i]!)}   x${(ips[i]! / ips[0]!).toFixed(2)}`);
  });
  for (const m of models) m.dispose();
}

async function batches(): Promise<void> {
  console.log('\n2. batch size x backend (this thread), inferences/s');
  console.log(`   ${'batch'.padEnd(8)}${['wasm', 'cpu'].map((b) => b.padStart(10)).join('')}`);
  const rows: Record<number, number[]> = {};
  for (const backend of ['wasm', 'cpu'] as const) {
    const m = await loadModel(modelDir, { backend, signatures: ['serving_default'] });
    const alias = Object.keys(m.signatures.serving_default!.inputs)[0]!;
    const sizes = [1, 8, 32, 128];
    const ips = await compare(sizes.map((n) => {
      const input = batch(n);
      return { rows: n, once: () => m.run('serving_default', { [alias]: input }) };
    }));
    sizes.forEach((n, i) => (rows[n] ??= []).push(ips[i]!));
    m.dispose();
  }
  for (const n of [1, 8, 32, 128]) console.log(`   ${String(n).padEnd(8)}${rows[n]!.map((x) => fmt(x).padStart(10)).join('')}`);
}

async function workers(): Promise<void> {
  console.log('\n3. worker pool (wasm, batch 32), inferences/s');
  let WorkerPool: typeof import('../src/core/engine/pool.js').WorkerPool;
  try {
    ({ WorkerPool } = await import('../src/core/engine/pool.js'));
  } catch (err) {
    console.log(`   skipped: the worker pool is not available (${(err as Error).message})`);
    return;
  }
  const pools = [new WorkerPool({ size: 1 }), new WorkerPool({ size: 2 })];
  for (const pool of pools) await pool.load('cnn', modelDir, { backend: 'wasm', signatures: ['serving_default'] });
  const rowsPerRun = 32;
  // Keeps every worker of `pool` busy for `ms` (each idle worker takes the next batch); returns batches done.
  const runFor = (pool: InstanceType<typeof WorkerPool>, ms: number) =>
    new Promise<number>((resolve) => {
      let done = 0;
      let inFlight = 0;
      const end = performance.now() + ms;
      const pump = () => {
        while (pool.idleCount() > 0 && performance.now() < end) {
          inFlight++;
          void pool.run('cnn', 'serving_default', { keras_tensor: batch(rowsPerRun) }).then(() => {
            done++;
            inFlight--;
            if (performance.now() >= end && inFlight === 0) resolve(done);
            else pump();
          });
        }
      };
      pump();
    });
  const best = [0, 0];
  for (const pool of pools) await runFor(pool, 200);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, pool] of pools.entries()) {
      const t0 = performance.now();
      const done = await runFor(pool, (seconds * 1000) / ROUNDS);
      best[i] = Math.max(best[i]!, (done * rowsPerRun) / ((performance.now() - t0) / 1000));
    }
  }
  best.forEach((ips, i) => console.log(`   ${`${i + 1} worker${i ? 's' : ''}`.padEnd(10)} ${fmt(ips)}   x${(ips / best[0]!).toFixed(2)}`));
  for (const pool of pools) await pool.close();
}

async function recurrent(): Promise<void> {
  console.log('\n4. recurrent loops, inferences/s: tfsvc loop op as a loop (default) / unrolled (<= 32 steps) / tfjs While');
  const cases = [
    { name: 'msft_lstm', input: 'input_6', shape: [5, 1] },
    { name: 'sms_spam_lstm', input: 'input_1', shape: [910] },
  ];
  console.log(`   ${'model'.padEnd(15)}${'backend'.padEnd(9)}${'batch'.padEnd(7)}${'loop'.padStart(10)}${'unrolled'.padStart(10)}${'tfjs While'.padStart(12)}   loop vs tfjs`);
  for (const c of cases) {
    const dir = path.join(sharedModelsDir, 'wild', c.name, '1');
    if (!existsSync(dir)) {
      console.log(`   ${c.name}: skipped (not found at ${dir})`);
      continue;
    }
    for (const backend of ['wasm', 'cpu'] as const) {
      const models = [
        await loadModel(dir, { backend }),
        await loadModel(dir, { backend, unroll: 32 }),
        await loadModel(dir, { backend, recurrentLoops: false }),
      ];
      for (const n of [1, 32]) {
        const per = c.shape.reduce((a, b) => a * b, 1);
        // Closing prices around 300 (msft) or word ids < 8921 (spam), deterministic.
        const data = Float32Array.from({ length: n * per }, (_, i) => (c.name === 'msft_lstm' ? 300 + 20 * Math.sin(i) : (i * 7919) % 8921));
        const x: HostTensor = { dtype: 'DT_FLOAT', shape: [n, ...c.shape], data };
        const ips = await compare(models.map((m) => ({ rows: n, once: () => m.run('serving_default', { [c.input]: x }) })));
        const [l, u, t] = ips as [number, number, number];
        console.log(`   ${c.name.padEnd(15)}${backend.padEnd(9)}${String(n).padEnd(7)}${fmt(l).padStart(10)}${fmt(u).padStart(10)}${fmt(t).padStart(12)}   x${(l / t).toFixed(2)}`);
      }
      for (const m of models) m.dispose();
    }
  }
}

async function nodeTrace(): Promise<void> {
  console.log('\n5. node trace (names the failing node) on vs off (wasm, GraphModel.execute), inferences/s');
  await initBackend('wasm');
  const src = await openModelSource(modelDir);
  const graphs = [await buildExecutableGraph(src, 'serving_default'), await buildExecutableGraph(src, 'serving_default')];
  const models = await Promise.all(graphs.map((g) => loadGraphModel(tf.io.fromMemory(g.artifacts))));
  traceNodes(models[1]!);
  const feed = Object.values(graphs[0]!.inputs)[0]!.node;
  const fetch = Object.values(graphs[0]!.outputs)[0]!.tensor;
  for (const n of [1, 32]) {
    const x = tf.tensor(batch(n).data as Float32Array, [n, 28, 28, 1]);
    const [off, on] = await compare(models.map((m) => ({ rows: n, once: async () => tf.dispose(m.execute({ [feed]: x }, fetch)) })));
    console.log(`   batch ${String(n).padEnd(4)} off ${fmt(off!)}   on ${fmt(on!)}   x${(on! / off!).toFixed(2)}`);
    x.dispose();
  }
  for (const m of models) m.dispose();
}

if (!existsSync(modelDir)) {
  console.log(`bench/engine: model not found at ${modelDir}; pass a SavedModel directory (Keras 3 MNIST CNN)`);
  process.exit(0);
}
console.log(`bench/engine: ${modelDir}`);
console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${seconds}s per variant, best of ${ROUNDS} interleaved slices`);
// BENCH_SECTIONS=4 runs only the recurrent section (default: all).
const sections = new Set((process.env.BENCH_SECTIONS ?? '1,2,3,4,5').split(','));
if (sections.has('1')) await optimisations();
if (sections.has('2')) await batches();
if (sections.has('3')) await workers();
if (sections.has('4')) await recurrent();
if (sections.has('5')) await nodeTrace();
