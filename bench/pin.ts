// Core pinning and per-process CPU for the serving benchmarks (bench/serve.ts, bench/grpc-client.ts): the server on
// one core and the load generator on the other (Linux `taskset`), so neither takes CPU from the other and a server's
// CPU per request is its own. Where taskset is missing (macOS, a container without util-linux) nothing is pinned and
// `pinNote` says so; the figures are then noisier still.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** `--no-pin` turns pinning off: on a machine shared with other work, a pinned process gets only its core's share. */
export const pinning = !process.argv.includes('--no-pin');
export const hasTaskset = pinning && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** Pins this process (all threads) to `core`; false when it could not. */
export function pinSelf(core: number): boolean {
  if (!hasTaskset) return false;
  return spawnSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** The command line that runs `argv` on `core` (unchanged without taskset). */
export function onCore(core: number, argv: string[]): string[] {
  return hasTaskset ? ['taskset', '-c', String(core), ...argv] : argv;
}

export function pinNote(): string {
  return hasTaskset
    ? 'server pinned to core 1, load generator to core 0 (taskset)'
    : pinning
      ? 'taskset not found: server and generator NOT pinned (figures mix both processes\' CPU contention)'
      : 'not pinned (--no-pin)';
}

export { cpuSeconds } from './script-util.js';
