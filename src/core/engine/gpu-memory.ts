// GPU memory in use, as tfjs's WebGPU backend counts it (tf.memory().numBytesInGPU), reported by each GPU engine to
// the main thread, which exposes it as a metric. The engines live in worker threads with their own tfjs; rather than
// add a message to the pool's protocol, each one posts its figures on a BroadcastChannel once a second (and once at
// start), and the main thread keeps the latest per adapter. Timers and channels are unref'd: they never keep a
// process alive.
import { BroadcastChannel } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';

export const GPU_MEMORY_CHANNEL = 'tfsvc:gpu-memory';

export interface GpuMemoryReport {
  adapter: string;
  threadId: number;
  /** Bytes of device buffers tfjs holds (weights, activations, its buffer pool). */
  bytesInGpu: number;
  tensors: number;
}

/** Starts posting this thread's WebGPU memory figures (engine side). */
export function reportGpuMemory(adapter: string, threadId: number, everyMs = 1000): void {
  const channel = new BroadcastChannel(GPU_MEMORY_CHANNEL);
  channel.unref();
  const post = (): void => {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    const report: GpuMemoryReport = { adapter, threadId, bytesInGpu: m.numBytesInGPU ?? 0, tensors: m.numTensors };
    channel.postMessage(report);
  };
  post();
  setInterval(post, everyMs).unref();
}

/** The latest report of each engine thread (main side); `close` stops listening. */
export function listenGpuMemory(): { latest(): GpuMemoryReport[]; close(): void } {
  const channel = new BroadcastChannel(GPU_MEMORY_CHANNEL);
  channel.unref();
  const byThread = new Map<number, { report: GpuMemoryReport; at: number }>();
  channel.onmessage = (e: unknown) => {
    const r = (e as { data: GpuMemoryReport }).data;
    byThread.set(r.threadId, { report: r, at: Date.now() });
  };
  return {
    // A worker that stopped (device lost, replaced) stops reporting: its last figures go after a few seconds.
    latest: () => {
      const now = Date.now();
      for (const [id, { at }] of byThread) if (now - at > 5000) byThread.delete(id);
      return [...byThread.values()].map((v) => v.report);
    },
    close: () => channel.close(),
  };
}
