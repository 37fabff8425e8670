// Serving on webgpu through the real server: one engine per adapter with GPU batching (a batching file's
// max_batch_size 8, so allowed sizes 1, 2, 4, 8), warmup at each allowed batch size before AVAILABLE, concurrent
// requests batched and answered as wasm answers them, backend metrics, GPU memory following loads and unloads, and
// recovery after the device is lost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { startServing, type Serving, type ServingEvent } from '../../src/core/serving/server.js';
import { parseBatchingParameters } from '../../src/core/serving/config.js';
import { loadModel } from '../../src/core/engine/model.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { needsWebGpu } from '../helpers/webgpu.js';
import { call, tmpBase, until } from './helpers.js';
import { DESTROY_DEVICE } from './webgpu-engine.js';

const ENGINE = new URL('./webgpu-engine.js', import.meta.url).href;

/** A 28x28x1 image whose pixels follow a pattern seeded by `k` (values in [0, 1)). */
function image(k: number): number[][][] {
  return Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => [((r * 31 + c * 17 + k * 101) % 97) / 97]));
}

function bucket(text: string, le: string): number {
  const m = text.match(new RegExp(`^tfsvc_batch_size_bucket\\{le="${le}",model_name="cnn",signature="serving_default"\\} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

describe('serving on webgpu', { ...needsShared, ...needsWebGpu, timeout: 300_000 }, () => {
  let serving: Serving;
  let base: string;
  let port: number;
  const events: ServingEvent[] = [];
  let warmupMetrics = '';
  const reference: number[][] = [];
  const images = Array.from({ length: 12 }, (_, k) => image(k));

  before(async () => {
    const src = sharedModel('keras/mnist_cnn_keras3/1');
    base = tmpBase('tfsvc-webgpu-');
    mkdirSync(path.join(base, 'cnn'));
    symlinkSync(src, path.join(base, 'cnn', '1'));
    serving = await startServing({
      models: [{ name: 'cnn', basePath: path.join(base, 'cnn'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching: parseBatchingParameters('max_batch_size { value: 8 }'),
      loadOptions: { backend: 'webgpu' },
      loaderModule: ENGINE,
      log: (e) => events.push(e),
    });
    port = serving.restPort;
    warmupMetrics = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
    // What wasm answers for the same images (this thread), to compare the served answers with.
    const wasm = await loadModel(src, { backend: 'wasm', signatures: ['serving_default'] });
    const out = await wasm.run('serving_default', { keras_tensor: { dtype: 'DT_FLOAT', shape: [12, 28, 28, 1], data: Float32Array.from(images.flat(3)) } });
    const d = Array.from(out.output_0!.data as Float32Array);
    for (let i = 0; i < 12; i++) reference.push(d.slice(i * 10, i * 10 + 10));
    wasm.dispose();
  });
  after(async () => {
    await serving?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const close = (got: number[], want: number[]): boolean => got.length === want.length && got.every((v, i) => Math.abs(v - want[i]!) <= 1e-4 * Math.abs(want[i]!) + 1e-5);

  test('one engine per adapter, loaded on webgpu', () => {
    const engines = events.find((e) => e.kind === 'engines');
    assert.ok(engines && engines.kind === 'engines' && /one engine per adapter/.test(engines.message), JSON.stringify(events));
    const loaded = events.find((e) => e.kind === 'loaded');
    assert.ok(loaded && loaded.kind === 'loaded');
    assert.equal(loaded.backend, 'webgpu');
  });

  test('warmup ran a batch of every allowed size (1, 2, 4, 8) before the version was AVAILABLE', () => {
    assert.deepEqual(['1', '2', '4', '8'].map((le) => bucket(warmupMetrics, le)), [1, 2, 3, 4], warmupMetrics.split('\n').filter((l) => l.startsWith('tfsvc_batch_size')).join('\n'));
    assert.match(warmupMetrics, /tfsvc_batch_size_count\{model_name="cnn",signature="serving_default"\} 4\b/);
  });

  test('concurrent requests are batched on the GPU and answered as wasm answers them', async () => {
    const before = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
    const count = (t: string): number => Number(t.match(/^tfsvc_batch_size_count\{model_name="cnn",signature="serving_default"\} (\d+)/m)![1]);
    const replies = await Promise.all(images.map((img) => call(port, 'POST', '/v1/models/cnn:predict', { instances: [img] })));
    replies.forEach((r, i) => {
      assert.equal(r.status, 200, r.text);
      assert.ok(close(r.json.predictions[0], reference[i]!), `image ${i}: ${r.json.predictions[0]} vs ${reference[i]}`);
    });
    const after = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
    const batches = count(after) - count(before);
    assert.ok(batches >= 2 && batches < 12, `12 requests ran as ${batches} batches`);
  });

  test('backend metrics: batch time and fill ratio by backend', async () => {
    const text = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
    assert.match(text, /^tfsvc_backend_batch_seconds_count\{backend="webgpu"\} [1-9]/m);
    assert.match(text, /^tfsvc_batch_fill_ratio_bucket\{le="1",backend="webgpu"\} [1-9]/m);
  });

  // The engine posts tf.memory().numBytesInGPU once a second, so each step waits for a sample that shows it.
  test('GPU memory in use: the weights once loaded and warmed up, freed when the version unloads, back on reload', async () => {
    // The CNN's largest weight, the Dense kernel (10816 x 10 float32 = 432,640 bytes; with the rest, after constant
    // folding, the engine holds about 433 KB), uploaded by warmup's first batch and held while the version is loaded.
    const WEIGHTS = 432_640;
    const gauge = async (): Promise<{ bytes: number; tensors: number } | undefined> => {
      const text = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
      const bytes = text.match(/^tfsvc_gpu_memory_in_use_bytes\{adapter="[^"]+"\} (\d+)/m);
      const tensors = text.match(/^tfsvc_gpu_tensors\{adapter="[^"]+"\} (\d+)/m);
      return bytes && tensors ? { bytes: Number(bytes[1]), tensors: Number(tensors[1]) } : undefined;
    };
    let last: Awaited<ReturnType<typeof gauge>>;
    const waitFor = (ok: (g: NonNullable<typeof last>) => boolean, what: string) =>
      until(async () => ((last = await gauge()) !== undefined && ok(last)), () => serving.poll(), 60_000).catch(() =>
        assert.fail(`${what}; last sample ${JSON.stringify(last)}; versions ${JSON.stringify(serving.manager.status('cnn'))}`),
      );
    await waitFor((g) => g.bytes >= WEIGHTS, 'the loaded version\'s weights never showed on the GPU');
    const loaded = last!;
    const version = path.join(base, 'cnn', '1');
    rmSync(version);
    serving.poll();
    await serving.settled();
    await waitFor((g) => g.bytes <= loaded.bytes - WEIGHTS && g.tensors < loaded.tensors, 'unloading the version did not free its weights');
    symlinkSync(sharedModel('keras/mnist_cnn_keras3/1'), version);
    await until(() => serving.manager.status('cnn').some((v) => v.state === 'AVAILABLE'), () => serving.poll(), 120_000);
    await waitFor((g) => g.bytes >= WEIGHTS, 'the reloaded version\'s weights never showed on the GPU');
    const r = await call(port, 'POST', '/v1/models/cnn:predict', { instances: [images[5]] });
    assert.equal(r.status, 200, r.text);
    assert.ok(close(r.json.predictions[0], reference[5]!));
  });

  test('a lost device fails its batch, the worker is replaced, and serving resumes with the same answers', async () => {
    const poisoned = image(0);
    poisoned[0]![0]![0] = DESTROY_DEVICE;
    const lost = await call(port, 'POST', '/v1/models/cnn:predict', { instances: [poisoned] });
    assert.notEqual(lost.status, 200, 'the batch on the destroyed device cannot succeed');
    let last = lost;
    await until(
      async () => {
        last = await call(port, 'POST', '/v1/models/cnn:predict', { instances: [images[3]] });
        return last.status === 200;
      },
      () => undefined,
      120_000,
    );
    assert.ok(close(last.json.predictions[0], reference[3]!));
  });
});
