// The open-loop pacer: one loop that, each time it wakes, issues every request whose intended time has passed
// (catching up after a late wake-up or a GC pause) and then sleeps until the next one is due. This is how wrk2 and
// vegeta keep a rate: a setTimeout per request drifts (each timer fires late and the lateness adds up), while here
// lateness never accumulates because intended times come from the schedule, not from when the last send happened.
// Latency is measured from the intended time, so the pacer's own lateness counts against the result, never for it.
import { intendedTimes, type OpenSchedule } from './schedule.js';

export interface PacerOptions {
  schedule: OpenSchedule;
  /** Stop issuing at the first intended time >= this (ms from start); Infinity for no limit. */
  untilMs: number;
  /** Stop after this many requests; Infinity for no limit. */
  maxRequests: number;
  /** Called for each due request with its intended time and the pacer's lag (now − intended), both ms. */
  issue(intended: number, lag: number): void;
  /** Monotonic clock in ms, relative to the run's start. */
  now(): number;
  signal?: AbortSignal;
}

/** Runs the pacer; resolves with the number of requests issued once the schedule is exhausted or aborted. */
export function runPacer(o: PacerOptions): Promise<number> {
  return new Promise((resolve) => {
    const times = intendedTimes(o.schedule);
    let next = times.next().value;
    let issued = 0;
    const finished = () => issued >= o.maxRequests || next >= o.untilMs || o.signal?.aborted === true;
    let timer: NodeJS.Timeout | undefined;
    // Ctrl-C must not wait for the next due request (seconds away at a low rate): wake up and stop now.
    const onAbort = () => {
      clearTimeout(timer);
      tick();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const tick = () => {
      const now = o.now();
      while (!finished() && next <= now) {
        o.issue(next, now - next);
        issued++;
        next = times.next().value;
      }
      if (finished()) {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        return resolve(issued);
      }
      const gap = next - o.now();
      // Timers are only good to about a millisecond: sleep on one when the gap allows, otherwise yield to I/O with
      // setImmediate and look again (at high rates this loop keeps one core busy, as any precise generator does).
      if (gap >= 1.5) timer = setTimeout(tick, Math.floor(gap - 0.5));
      else setImmediate(tick);
    };
    tick();
  });
}
