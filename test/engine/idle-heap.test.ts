// A thread that goes quiet after a burst gives its grown young generation back (engine/idle-heap.ts): without it, the
// HTTP thread's and each decode worker's V8 new space stays at its 32 MiB peak for as long as the server is idle, and
// bench/chaos's "RSS back within 20%" after malformed requests is not met.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

const moduleUrl = new URL('../../src/core/engine/idle-heap.js', import.meta.url).href;

/**
 * In a fresh thread: grow the new space with a burst of surviving allocations (as JSON.parse of large bodies does),
 * then stay idle and report the new space's size every 250 ms for `idleMs`.
 */
function burstThenIdle(trim: boolean, idleMs: number): Promise<{ floor: number; peak: number; sizes: number[] }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then(({ trimHeapWhenIdle, newSpaceBytes }) => {
      const floor = newSpaceBytes();
      if (workerData.trim) trimHeapWhenIdle({ intervalMs: 500, quietChecks: 2, maxCollections: 20 });
      let keep = [];
      for (let i = 0; i < 150; i++) {
        keep.push(JSON.parse(JSON.stringify(Array.from({ length: 20000 }, (_, j) => ({ a: j, b: [j, j] })))));
        if (keep.length > 20) keep.shift();
      }
      keep = null;
      const peak = newSpaceBytes();
      const sizes = [];
      const t0 = Date.now();
      const timer = setInterval(() => {
        sizes.push(newSpaceBytes());
        if (Date.now() - t0 >= workerData.idleMs) {
          clearInterval(timer);
          parentPort.postMessage({ floor, peak, sizes });
        }
      }, 250);
    });`;
  const worker = new Worker(code, { eval: true, workerData: { moduleUrl, trim, idleMs } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      void worker.terminate();
      resolve(m as { floor: number; peak: number; sizes: number[] });
    });
    worker.once('error', reject);
  });
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

test('an idle thread gives back the new space a burst grew; without the check it stays grown', async () => {
  const [trimmed, control] = await Promise.all([burstThenIdle(true, 10_000), burstThenIdle(false, 10_000)]);
  assert.ok(trimmed.peak >= 4 * trimmed.floor, `the burst did not grow the new space (${MiB(trimmed.floor)} -> ${MiB(trimmed.peak)}): the test shows nothing`);
  const last = trimmed.sizes.at(-1)!;
  assert.ok(
    last <= trimmed.peak / 4,
    `new space still ${MiB(last)} after 10 s idle (peak ${MiB(trimmed.peak)}, start ${MiB(trimmed.floor)}); without the check: ${MiB(control.sizes.at(-1)!)}`,
  );
});
