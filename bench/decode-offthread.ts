// bench/decode-offthread: where large request bodies should leave the HTTP thread. For predict bodies of growing size
// (MNIST-like rows), prints the HTTP thread's time to decode on the thread itself vs. what the thread spends handing
// the body to a decode worker and taking the tensors back (the copy in, the message, the transfer out), and the
// worker round trip's wall time. The server decodes on a worker from the size where the thread's cost on the worker
// path drops clearly below the inline cost (DEFAULT_OFFTHREAD_BYTES in src/core/serving/rest/decode-pool.ts).
// Side by side in one process, so the ratios are what to read on a busy machine.
// Usage: node dist/bench/decode-offthread.js [--reps 20]
import type { SignatureInfo } from '../src/core/engine/types.js';
import { decodeInferenceBody } from '../src/core/serving/rest/decode-body.js';
import { DecodePool } from '../src/core/serving/rest/decode-pool.js';

const reps = Number(process.argv.includes('--reps') ? process.argv[process.argv.indexOf('--reps') + 1] : 20);
const sig: Record<string, SignatureInfo> = {
  serving_default: {
    key: 'serving_default',
    methodName: 'tensorflow/serving/predict',
    inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 784] } },
    outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 10] } },
  },
};

function body(rows: number, fast: boolean): Buffer {
  const row = Array.from({ length: 784 }, (_, i) => ((i * 31) % 10) / 10 + 0.05);
  const instances = Array.from({ length: rows }, () => row);
  // The general path: a named instance (object rows) makes the fast path decline.
  return Buffer.from(JSON.stringify(fast ? { instances } : { instances: instances.map((r) => ({ x: r })) }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const pool = new DecodePool(1);
  await pool.decode('predict', body(1, true), sig); // start the worker
  console.log('path     body KiB  inline ms  thread ms (worker)  wall ms (worker)  inline/thread');
  for (const fast of [true, false]) {
    for (const rows of [1, 4, 16, 64, 256, 1024]) {
      const b = body(rows, fast);
      const inline: number[] = [];
      const thread: number[] = [];
      const wall: number[] = [];
      for (let k = 0; k < reps; k++) {
        let t = performance.now();
        decodeInferenceBody('predict', b, sig);
        inline.push(performance.now() - t);
        // Thread time on the worker path: the synchronous part (copy + post) plus the reply's delivery, measured by
        // elapsed event-loop time around each step while the worker decodes.
        t = performance.now();
        const p = pool.decode('predict', b, sig);
        const posted = performance.now() - t;
        const started = performance.now();
        await p;
        const t2 = performance.now();
        await new Promise((r) => setImmediate(r));
        const delivered = performance.now() - t2;
        thread.push(posted + delivered);
        wall.push(performance.now() - started + posted);
      }
      const i = median(inline);
      const th = median(thread);
      console.log(
        `${fast ? 'fast   ' : 'general'}  ${(b.length / 1024).toFixed(0).padStart(8)}  ${i.toFixed(3).padStart(9)}  ${th.toFixed(3).padStart(18)}  ${median(wall).toFixed(3).padStart(16)}  ${(i / th).toFixed(1).padStart(13)}`,
      );
    }
  }
  await pool.close();
}

await main();
