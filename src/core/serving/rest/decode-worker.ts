// A decode worker thread (see decode-pool.ts): runs decodeInferenceBody on bodies too large to parse on the HTTP
// thread and hands the tensors back, transferring their buffers (no copy).
import { parentPort, workerData } from 'node:worker_threads';
import { trimHeapWhenIdle } from '../../engine/idle-heap.js';
import { lowerThisThreadPriority } from '../../engine/thread-priority.js';
import type { SignatureInfo } from '../../engine/types.js';
import { decodeInferenceBody, serializeError, type DecodedBody, type InferenceVerb } from './decode-body.js';

interface Job {
  id: number;
  verb: InferenceVerb;
  bytes: Uint8Array;
  signatures: Record<string, SignatureInfo>;
}

/** The distinct ArrayBuffers behind a decoded body's tensors (a buffer listed twice would fail the transfer). */
function buffersOf(d: DecodedBody): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const t of Object.values(d.inputs)) {
    if (Array.isArray(t.data)) for (const s of t.data) set.add(s.buffer as ArrayBuffer);
    else set.add(t.data.buffer as ArrayBuffer);
  }
  return [...set].filter((b) => !(b instanceof SharedArrayBuffer));
}

// The bulk lane's worker (bodies of 8 MiB and more, decode-pool.ts) runs `niceness` nicer than the process: a 50 MB
// body takes seconds of CPU to decode, and at equal priority that CPU comes out of the inference workers' and the HTTP
// thread's share while every other client waits.
lowerThisThreadPriority(Number((workerData as { niceness?: number } | null)?.niceness ?? 0));
// A heap grown by a burst of bodies is given back once the thread is idle (engine/idle-heap.ts).
trimHeapWhenIdle();

parentPort!.on('message', (job: Job) => {
  let decoded: DecodedBody;
  try {
    decoded = decodeInferenceBody(job.verb, job.bytes, job.signatures);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: serializeError(err) });
    return;
  }
  try {
    parentPort!.postMessage({ id: job.id, decoded }, buffersOf(decoded));
  } catch {
    // A buffer that cannot be transferred (e.g. a view on Node's shared pool): copy instead.
    parentPort!.postMessage({ id: job.id, decoded });
  }
});
