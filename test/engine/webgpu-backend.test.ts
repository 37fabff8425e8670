// The webgpu backend: selection (explicit, auto never on a software adapter), per-op CPU fallback for kernels WebGPU
// lacks, device loss noticed, and the serving plan (one engine per adapter, GPU batching defaults under the file's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '../../src/core/engine/backend.js';
import { currentWebGpu, hardwareAdapters, identicalAdaptersNote, initWebGpu, listAdapters, onDeviceLost, parseAdapterList } from '../../src/core/engine/webgpu.js';
import { cpuFallbackKernels, cpuFallbackOps } from '../../src/core/engine/webgpu-fallback.js';
import { gpuBatching, planEngines, powersOfTwo } from '../../src/core/serving/gpu-plan.js';
import { defaultBatching, parseBatchingParameters } from '../../src/core/serving/config.js';
import { needsWebGpu, webgpuAdapter } from '../helpers/webgpu.js';

test('GPU batching defaults: max 128, 1 ms wait, powers of two; a batching file\'s fields win', () => {
  const d = gpuBatching(defaultBatching(), 1);
  assert.equal(d.maxBatchSize, 128);
  assert.equal(d.batchTimeoutMicros, 1000);
  assert.deepEqual(d.allowedBatchSizes, [1, 2, 4, 8, 16, 32, 64, 128]);
  assert.equal(d.numBatchThreads, 1, 'one engine per adapter');
  assert.equal(d.padVariableLengthInputs, true);
  assert.equal(gpuBatching(parseBatchingParameters('pad_variable_length_inputs: false'), 1).padVariableLengthInputs, false, 'the file can turn padding off');
  const file = parseBatchingParameters('max_batch_size { value: 24 } batch_timeout_micros { value: 0 }');
  const f = gpuBatching(file, 2);
  assert.equal(f.maxBatchSize, 24);
  assert.equal(f.batchTimeoutMicros, 0);
  assert.deepEqual(f.allowedBatchSizes, [1, 2, 4, 8, 16, 24], 'allowed sizes follow the file\'s max_batch_size and end at it');
  const sizes = parseBatchingParameters('max_batch_size { value: 64 } allowed_batch_sizes: 32 allowed_batch_sizes: 64');
  assert.deepEqual(gpuBatching(sizes, 1).allowedBatchSizes, [32, 64]);
  assert.deepEqual(powersOfTwo(1), [1]);
});

test('CPU backends keep their plan: one engine per batch thread, one batch at a time', async () => {
  const b = { ...defaultBatching(), numBatchThreads: 3 };
  const plan = await planEngines('wasm', b);
  assert.deepEqual(plan.pool, { size: 3, depth: 1 });
  assert.equal(plan.batching, b);
});

test('identical GPUs: Dawn lists each, selects by name only; tfsvc counts them and says how to serve each', async () => {
  // Dawn's answer on lavapipe, as read here, and the same answer on a machine with two identical GPUs.
  assert.deepEqual(parseAdapterList("no suitable backends found\nAvailable adapters:\n * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'"), [
    { backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
  ]);
  const two = parseAdapterList("no suitable backends found\nAvailable adapters:\n * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'\n * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'\n * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'");
  assert.deepEqual(two.map((a) => a.name), ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3', 'llvmpipe (LLVM 15.0.6, 256 bits)']);
  const base = { backend: 'vulkan', vendor: 'nvidia', architecture: '', device: '', description: '', software: false, limits: {}, features: [] };
  assert.equal(identicalAdaptersNote({ ...base, name: 'NVIDIA H100 80GB HBM3', count: 1 }), undefined);
  assert.match(identicalAdaptersNote({ ...base, name: 'NVIDIA H100 80GB HBM3', count: 2 })!, /^2 identical adapters named NVIDIA H100 80GB HBM3: .*only the first; serve each GPU from its own tfsvc process/);
});

test('each adapter found is listed once, with how many Dawn sees under its name', needsWebGpu, async () => {
  const adapters = await listAdapters();
  assert.equal(new Set(adapters.map((a) => a.name)).size, adapters.length);
  for (const a of adapters) assert.ok(Number.isInteger(a.count) && a.count >= 1, `${a.name}: ${a.count}`);
});

test('auto never picks a software adapter; webgpu asked for explicitly does', needsWebGpu, async (t) => {
  t.diagnostic(`adapter: ${webgpuAdapter!.name}`);
  const hw = await hardwareAdapters();
  const auto = await planEngines('auto', defaultBatching());
  if (hw.length === 0) {
    assert.equal(auto.backend, 'auto', 'no hardware adapter: the workers choose a CPU backend');
    assert.equal(auto.pool.depth, 1);
  } else {
    assert.equal(auto.backend, 'webgpu');
  }
  const explicit = await planEngines('webgpu', defaultBatching());
  assert.equal(explicit.backend, 'webgpu');
  assert.equal(explicit.pool.depth, 2, 'two batches deep: the next is assembled while one runs');
  assert.equal(explicit.pool.size, explicit.pool.gpuAdapters!.length);
  assert.equal(explicit.batching.maxBatchSize, 128);
  assert.match(explicit.note!, /one engine per adapter/);
  if (hw.length === 0) assert.notEqual(await initBackend('auto'), 'webgpu');
});

test('webgpu initialises on the adapter and names it', needsWebGpu, async () => {
  assert.equal(await initBackend('webgpu'), 'webgpu');
  assert.equal(describeBackend(), `webgpu (${currentWebGpu()!.adapter.name})`);
  const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])));
  assert.deepEqual(Array.from(await y.data()), [17, 39]);
  y.dispose();
});

test('a kernel WebGPU lacks runs on the CPU for that op only, and the ops are named', needsWebGpu, async () => {
  await initBackend('webgpu');
  assert.ok(cpuFallbackKernels().includes('Unique'), cpuFallbackKernels().join(','));
  assert.ok(!tf.getKernelsForBackend('webgpu').some((k) => k.kernelName === 'Conv2D' && cpuFallbackKernels().includes('Conv2D')));
  assert.deepEqual(cpuFallbackOps(['Conv2D', 'StringSplit', 'Unique', 'StringSplit']), ['StringSplit', 'Unique']);
  // Input from the host: Unique runs on the CPU and its result is a webgpu tensor the next (GPU) op uses.
  const { values, indices } = tf.unique(tf.tensor1d([3, 1, 3, 2, 1], 'int32'));
  assert.equal(tf.getBackend(), 'webgpu');
  const doubled = tf.mul(values, 2);
  assert.deepEqual(Array.from(await doubled.data()), [6, 2, 4]);
  assert.deepEqual(Array.from(await indices.data()), [0, 1, 0, 2, 1]);
  // Strings live on the host anyway.
  const hashed = tf.string.stringToHashBucketFast(tf.tensor1d(['a', 'b', 'a'], 'string'), 1000);
  const h = Array.from(await hashed.data());
  assert.equal(h[0], h[2]);
  // An input a GPU kernel computed cannot be read back mid-graph in Node: a clear error naming the op, not garbage.
  // (Large enough that tfjs does not forward the add to the CPU, as it does for small tensors.)
  const onGpu = tf.add(tf.fill([4096], 1, 'int32'), 1);
  assert.throws(() => tf.unique(onGpu), /op Unique has no WebGPU kernel and runs on the CPU, but its input x was computed on the GPU/);
  tf.dispose([values, indices, doubled, hashed, onGpu]);
});

test('Bincount / DenseBincount on webgpu: int32 counts and binary output come out right (tfjs 4.22 kernels fixed)', needsWebGpu, async () => {
  await initBackend('webgpu');
  const read = async (t: tf.Tensor) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(await t.data()) });
  const x = tf.tensor1d([0, 1, 1, 3, 3, 3], 'int32');
  const x2 = tf.tensor2d([[0, 1, 1], [2, 2, 4]], [2, 3], 'int32');
  const cases = {
    // Keras TextVectorization's row splits: int32 counts without weights (tfjs wrote float bits: 2 read as 1073741824).
    counts: tf.bincount(x, tf.tensor1d([], 'int32'), 5),
    intWeights: tf.bincount(x, tf.tensor1d([1, 2, 3, 4, 5, 6], 'int32'), 5),
    floatWeights: tf.bincount(x, tf.tensor1d([0.5, 1, 2, 3, 4, 5]), 5),
    // Keras CategoryEncoding multi_hot: binary output (tfjs's shader did not compile), weights ignored as in TensorFlow.
    binary: tf.denseBincount(x, tf.tensor1d([0.5, 1, 2, 3, 4, 5]), 5, true),
    binaryRows: tf.denseBincount(x2, tf.tensor1d([], 'int32') as unknown as tf.Tensor2D, 5, true),
  };
  assert.deepEqual(await read(cases.counts), { dtype: 'int32', shape: [5], values: [1, 2, 0, 3, 0] });
  assert.deepEqual(await read(cases.intWeights), { dtype: 'int32', shape: [5], values: [1, 5, 0, 15, 0] });
  assert.deepEqual(await read(cases.floatWeights), { dtype: 'float32', shape: [5], values: [0.5, 3, 0, 12, 0] });
  assert.deepEqual(await read(cases.binary), { dtype: 'float32', shape: [5], values: [1, 1, 0, 1, 0] });
  assert.deepEqual(await read(cases.binaryRows), { dtype: 'int32', shape: [2, 5], values: [1, 1, 0, 0, 0, 0, 0, 1, 0, 1] });
  // A [40, 2] column pair (Keras one-hot of a [batch, 1] input, batched): tfjs lost counts past 64 output elements.
  // Values >= size are ignored, as TensorFlow does.
  const col = Array.from({ length: 80 }, (_, i) => (i * 7) % 6);
  const w = Array.from({ length: 80 }, (_, i) => i / 8);
  const xc = tf.tensor2d(col, [40, 2], 'int32');
  const wc = tf.tensor2d(w, [40, 2]);
  const want = (weighted: boolean) => {
    const out = new Array<number>(40 * 5).fill(0);
    col.forEach((v, i) => {
      if (v < 5) out[Math.floor(i / 2) * 5 + v] += weighted ? w[i]! : 1;
    });
    return out;
  };
  const oneHot = tf.denseBincount(xc, tf.tensor1d([]) as unknown as tf.Tensor2D, 5, true);
  const weighted = tf.denseBincount(xc, wc, 5, false);
  assert.deepEqual(await read(oneHot), { dtype: 'float32', shape: [40, 5], values: want(false).map((c) => Math.min(c, 1)) });
  assert.deepEqual(await read(weighted), { dtype: 'float32', shape: [40, 5], values: want(true) });
  tf.dispose([x, x2, xc, wc, oneHot, weighted, ...Object.values(cases)]);
});

test('a host op waits for its GPU-computed input (an asynchronous read), and reads host values synchronously', needsWebGpu, async () => {
  await initBackend('webgpu');
  const { onDeviceOnly, withHostInputs } = await import('../../src/core/engine/host-read.js');
  // Large enough that tfjs does not forward the add to the CPU.
  const onGpu = tf.add(tf.fill([4096], 1, 'int32'), 1);
  const onHost = tf.tensor1d([7, 8], 'int32');
  assert.equal(onDeviceOnly(onGpu), true);
  assert.equal(onDeviceOnly(onHost), false);
  const sum = (n: { inputs: tf.Tensor[] }) => n.inputs.reduce((a, t) => a + (t.dataSync() as Int32Array)[0]!, 0);
  assert.equal(withHostInputs({ inputs: [onHost] }, sum), 7, 'host values: synchronous, as on wasm');
  const pending = withHostInputs({ inputs: [onGpu, onHost] }, sum);
  assert.ok(pending instanceof Promise, 'a device-only input makes the op wait');
  assert.equal(await pending, 9);
  assert.equal(onDeviceOnly(onGpu), false, 'the read leaves a host copy');
  // A small tensor a GPU kernel uploaded (a constant that is also a StridedSlice's begin, say) stays readable
  // synchronously, as tfjs-converter reads op parameters; a large one lives on the GPU only.
  const small = tf.tensor1d([5], 'int32');
  const large = tf.fill([4096], 2, 'int32');
  const total = tf.add(tf.add(onGpu, small), large);
  await total.data();
  assert.deepEqual(Array.from(small.dataSync()), [5]);
  assert.equal(onDeviceOnly(large), true);
  tf.dispose([onGpu, onHost, small, large, total]);
});

test('device loss is noticed, and the next initialisation gets a fresh device', needsWebGpu, async () => {
  await initWebGpu();
  const before = currentWebGpu()!.device;
  const lost = new Promise<string>((resolve) => onDeviceLost(resolve));
  before.destroy();
  assert.match(await lost, /destroyed/);
  assert.equal(currentWebGpu(), undefined);
  await initBackend('wasm');
  assert.equal(await initBackend('webgpu'), 'webgpu');
  assert.notEqual(currentWebGpu()!.device, before);
  const y = tf.add(tf.tensor1d([1, 2]), 1);
  assert.deepEqual(Array.from(await y.data()), [2, 3]);
  y.dispose();
});

test('a graph\'s CPU-fallback ops are named once at load time', needsWebGpu, async (t) => {
  await initBackend('webgpu');
  const { noteCpuFallbackOps } = await import('../../src/core/engine/webgpu-fallback.js');
  const topology = {
    node: [{ op: 'Placeholder' }, { op: 'StringSplit' }, { op: 'Conv2D' }, { op: 'StringLower' }, { op: 'Equal' }, { op: 'StaticRegexReplace' }],
    library: { function: [{ nodeDef: [{ op: 'Unique' }, { op: 'StringSplit' }, { op: 'TfsvcTableFind' }] }] },
  };
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (chunk: string) => (written.push(String(chunk)), true));
  try {
    assert.deepEqual(noteCpuFallbackOps('/m/1', 'serving_default', topology), ['StaticRegexReplace', 'StringLower', 'StringSplit', 'TfsvcTableFind', 'Unique']);
    noteCpuFallbackOps('/m/1', 'serving_default', topology);
  } finally {
    t.mock.restoreAll();
  }
  // StaticRegexReplace has a CPU kernel in tfjs, but tfsvc's own op replaces it (a host op, not a kernel fallback);
  // Equal runs on the GPU for numbers.
  assert.deepEqual(written, [
    'tfsvc: /m/1, signature serving_default: ops without a WebGPU kernel run on the CPU: StringSplit (2 nodes), Unique (1 node); ' +
      'tfsvc host ops run on the CPU: StaticRegexReplace (1 node), StringLower (1 node), TfsvcTableFind (1 node)\n',
  ]);
});
