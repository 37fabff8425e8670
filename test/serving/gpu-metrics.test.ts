// Backend metrics without a GPU: the nvidia-smi gauges are read from a stand-in nvidia-smi on a temporary PATH (the
// same CSV the real one prints), and batch time / fill ratio are labelled with the backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { BackendMetrics, findOnPath, parseNvidiaSmi } from '../../src/core/serving/gpu-metrics.js';

test('nvidia-smi CSV becomes per-GPU samples; unreadable fields are not numbers', () => {
  const s = parseNvidiaSmi('0, NVIDIA H200, 37, 1024, 143771\n1, NVIDIA H200, [N/A], 0, 143771\n');
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], { index: '0', name: 'NVIDIA H200', utilization: 0.37, memoryUsedBytes: 1024 * 1048576, memoryTotalBytes: 143771 * 1048576 });
  assert.ok(Number.isNaN(s[1]!.utilization));
});

test('with nvidia-smi on the PATH, GPU utilisation and memory are gauges; batch metrics carry the backend', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-smi-'));
  try {
    const smi = path.join(dir, 'nvidia-smi');
    writeFileSync(smi, '#!/bin/sh\necho "0, Fake GPU, 42, 2048, 8192"\n');
    chmodSync(smi, 0o755);
    assert.equal(findOnPath('nvidia-smi', `/nonexistent${path.delimiter}${dir}`), smi);
    const registry = new client.Registry();
    const m = new BackendMetrics(registry, 'webgpu', 128, findOnPath('nvidia-smi', dir));
    m.batch({ size: 32, inferenceMs: 4, ok: true });
    m.batch({ size: 128, inferenceMs: 9, ok: true });
    const text = await registry.metrics();
    m.close();
    assert.match(text, /^:tensorflow:core:gpu_utilization\{gpu="0",name="Fake GPU"\} 0\.42$/m);
    assert.match(text, /^:tensorflow:core:gpu_memory_used_bytes\{gpu="0",name="Fake GPU"\} 2147483648$/m);
    assert.match(text, /^:tensorflow:core:gpu_memory_total_bytes\{gpu="0",name="Fake GPU"\} 8589934592$/m);
    assert.match(text, /^tfsvc_backend_batch_seconds_count\{backend="webgpu"\} 2$/m);
    assert.match(text, /^tfsvc_batch_fill_ratio_bucket\{le="0.25",backend="webgpu"\} 1$/m);
    assert.match(text, /^tfsvc_batch_fill_ratio_bucket\{le="1",backend="webgpu"\} 2$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without nvidia-smi there are no GPU gauges', async () => {
  const registry = new client.Registry();
  const m = new BackendMetrics(registry, 'wasm', 256, undefined);
  const text = await registry.metrics();
  m.close();
  assert.doesNotMatch(text, /gpu_utilization/);
  assert.match(text, /# TYPE tfsvc_batch_fill_ratio histogram/);
});
