// loadModel inside worker_threads: each thread initialises its own tfjs backend (wasm binaries found from the package,
// whatever the cwd) and runs independently of the others.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

const modelJs = new URL('../../src/core/engine/model.js', import.meta.url).href;

function runInWorker(dir: string, backend: string): Promise<{ backend: string; y: number[] }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.modelJs).then(async ({ loadModel }) => {
      const m = await loadModel(workerData.dir, { backend: workerData.backend });
      const out = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [3, 1], data: Float32Array.of(1, 2, 5) } });
      parentPort.postMessage({ backend: m.backend, y: Array.from(out.y.data) });
      m.dispose();
    }).catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { modelJs, dir, backend } });
    w.once('message', (msg) => {
      void w.terminate();
      if (msg.error) reject(new Error(msg.error));
      else resolve(msg);
    });
    w.once('error', reject);
  });
}

describe('loadModel in worker threads', needsShared, () => {
  test('two workers (wasm and cpu) load and run concurrently', async (t) => {
    const dir = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
    const [a, b] = await Promise.all([runInWorker(dir, 'wasm'), runInWorker(dir, 'cpu')]);
    assert.deepEqual(a, { backend: 'wasm', y: [2.5, 3, 4.5] });
    assert.deepEqual(b, { backend: 'cpu', y: [2.5, 3, 4.5] });
  });
});
