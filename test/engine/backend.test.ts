// Backend selection: wasm by default, cpu on request, the native packages only when installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { initBackend, wasmDir } from '../../src/core/engine/backend.js';
import { UsageError } from '../../src/core/errors.js';
import { existsSync } from 'node:fs';

const nativeInstalled = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((p) => {
  try {
    createRequire(import.meta.url).resolve(p);
    return true;
  } catch {
    return false;
  }
});

test('the wasm binaries are found from the installed package', () => {
  assert.ok(existsSync(`${wasmDir()}tfjs-backend-wasm-simd.wasm`), wasmDir());
});

test('wasm and cpu initialise and report themselves', async () => {
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal(await initBackend('cpu'), 'cpu');
  assert.equal(await initBackend(), 'wasm');
});

test('tensorflow without @tensorflow/tfjs-node is a usage error naming the packages; auto falls back to wasm', { skip: nativeInstalled && 'a native package is installed' }, async () => {
  await assert.rejects(initBackend('tensorflow'), (err) => err instanceof UsageError && /needs @tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node installed/.test(err.message));
  assert.equal(await initBackend('auto'), 'wasm');
});

test('concurrent initialisations on one thread all succeed (several models loading at once)', async () => {
  await initBackend('cpu');
  const results = await Promise.all([initBackend('wasm'), initBackend('wasm'), initBackend(), initBackend('wasm')]);
  assert.deepEqual(results, ['wasm', 'wasm', 'wasm', 'wasm']);
  // A switch requested while another is under way runs after it, in call order.
  assert.deepEqual(await Promise.all([initBackend('cpu'), initBackend('wasm')]), ['cpu', 'wasm']);
});
