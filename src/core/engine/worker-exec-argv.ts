// The Node flags tfsvc's worker threads are started with. A Worker inherits the parent's execArgv, but node refuses
// per-process and V8 flags there (ERR_WORKER_INVALID_EXEC_ARGV): `node --max-old-space-size=4096 bin/tfsvc serve`,
// or --trace-gc, --v8-pool-size, --expose-gc, died at startup with an internal error. Those flags already apply to the
// whole process, workers included, so they are left out; flags that only make sense for a main script (--eval,
// --input-type...) too. Decided once per process, by asking node (its list of worker-valid flags is not public).
import { Worker } from 'node:worker_threads';

let cached: string[] | undefined;

/** process.execArgv less what a Worker refuses; computed on first use. */
export function workerExecArgv(): string[] {
  cached ??= accepted(withoutMainScriptFlags(process.execArgv));
  return cached;
}

/** Drops --eval/-e, --print/-p (with their code), --input-type and --test: they describe the main script. */
function withoutMainScriptFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^(-e|-p|-pe|--eval|--print)$/.test(a)) {
      i++; // its code
      continue;
    }
    if (/^--(input-type|eval|print|test)/.test(a)) continue;
    out.push(a);
  }
  return out;
}

function accepted(argv: string[]): string[] {
  for (let attempt = 0; attempt < 3 && argv.length > 0; attempt++) {
    const refused = refusedBy(argv);
    if (refused === undefined) return argv;
    const kept: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!refused.has(a)) {
        kept.push(a);
        continue;
      }
      // A flag written as two words (--stack-size 2000): its value goes with it.
      if (!a.includes('=') && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) i++;
    }
    if (kept.length === argv.length) break;
    argv = kept;
  }
  return argv.length > 0 && refusedBy(argv) === undefined ? argv : [];
}

/** The flags node names when a Worker is started with `argv`; undefined when it accepts them all. */
function refusedBy(argv: string[]): Set<string> | undefined {
  let probe: Worker;
  try {
    probe = new Worker('', { eval: true, execArgv: argv });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    const list = (err as Error).message.split(': ').slice(1).join(': ');
    return new Set(list.split(', ').map((f) => f.trim()).filter(Boolean));
  }
  void probe.terminate();
  return undefined;
}
