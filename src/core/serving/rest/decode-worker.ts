// A decode worker thread (see decode-pool.ts): runs decodeInferenceBody on bodies too large to parse on the HTTP
// thread and hands the tensors back, transferring their buffers (no copy).
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
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
// thread's share while every other client waits. Linux: setpriority(PRIO_PROCESS, tid) sets one thread's niceness,
// and this thread's id is /proc/thread-self's last part. Elsewhere, or when not allowed, it keeps the process's.
const niceness = Number((workerData as { niceness?: number } | null)?.niceness ?? 0);
if (niceness > 0) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + niceness));
  } catch {
    // no /proc/thread-self: not Linux
  }
}

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
