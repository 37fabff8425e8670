// Lowering one thread's scheduling priority, for worker threads whose work can wait a few milliseconds while the HTTP
// thread's cannot. Linux: setpriority(PRIO_PROCESS, tid) sets one thread's niceness, and the calling thread's id is
// /proc/thread-self's last part. Elsewhere, or when not allowed, the thread keeps the process's priority (raising
// niceness never needs a privilege, so on Linux it is always allowed).
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Default niceness of inference and decode worker threads relative to the HTTP thread (serve --worker-niceness).
 * When the threads share a core (bench/chaos pins the server to one), the kernel's fair scheduler gives each runnable
 * thread an equal share: at 5x overload the HTTP thread, which decides admission, got a third of the core, fell
 * behind, and clients waited 200-300 ms p99 (up to 2 s) for a 503 that took the server under 1 ms to decide. At 5
 * steps nicer the workers still take every cycle the HTTP thread leaves; the time to reject at the client fell to
 * 25-60 ms p99, and goodput rose from 57-59% to 64-84% of capacity (bench/chaos --only overload --queue 4 on the Keras
 * 3 CNN, nice 0/2/5/10/19 side by side). 10 steps refused faster still once refused bodies were skipped (p99 median
 * 12 ms against 19), but one 50 MB body then stalled other clients for 114 ms instead of 24-53 (docs/serve.md, stop 11).
 * On a machine with a core per thread it changes nothing.
 */
export const DEFAULT_WORKER_NICENESS = 5;

/** Makes the calling thread `by` steps nicer than it is (at most 19); returns whether it could. */
export function lowerThisThreadPriority(by: number): boolean {
  if (!(by > 0)) return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return false;
    setPriority(tid, Math.min(19, getPriority(tid) + by));
    return true;
  } catch {
    return false; // no /proc/thread-self: not Linux
  }
}
