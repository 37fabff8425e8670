// Lowering one thread's scheduling priority, for worker threads whose work can wait a few milliseconds while the HTTP
// thread's cannot. Linux: setpriority(PRIO_PROCESS, tid) sets one thread's niceness, and the calling thread's id is
// /proc/thread-self's last part. Elsewhere, or when not allowed, the thread keeps the process's priority (raising
// niceness never needs a privilege, so on Linux it is always allowed).
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

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
