// bench/thread-wake: what one message to a worker thread and its answer cost in CPU, at a given rate. At low rates each
// message wakes an idle thread (and on a VM an idle vCPU), which is the fixed cost every served request pays at least
// twice (HTTP thread → inference worker → HTTP thread); at high rates messages arrive while threads are awake. Prints
// process CPU per round trip at each rate, side by side in one run; the pacing timer (1 ms) is part of what it costs.
// Usage (after `npm run build`): node dist/bench/thread-wake.js [--rates 100,250,1000,5000] [--seconds 3]
// Run it pinned to one core (taskset -c 1) to see what a server pinned there pays.
import { Worker } from 'node:worker_threads';
import { arg } from './script-util.js';

const rates = (arg('rates', '100,250,1000,5000') ?? '').split(',').map(Number);
const seconds = Number(arg('seconds', '3'));

const worker = new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));`, { eval: true });
await new Promise((r) => worker.once('online', r));

for (const rate of rates) {
  const n = Math.round(rate * seconds);
  let answered = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const onMessage = () => {
      if (++answered === n) {
        worker.off('message', onMessage);
        done();
      }
    };
    worker.on('message', onMessage);
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * rate));
      for (; sent < due; sent++) worker.postMessage(sent);
      if (sent >= n) clearInterval(timer);
    }, 1);
  });
  const cpu = process.cpuUsage(cpu0);
  console.log(`${String(rate).padStart(6)}/s: process CPU per round trip ${((cpu.user + cpu.system) / n).toFixed(0).padStart(5)} us`);
}
await worker.terminate();
