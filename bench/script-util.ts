// What the bench scripts share: the repository root, `--name value` / `--name=value` arguments, and a child process's
// CPU time (to report server CPU per request, which moves less than throughput on a shared machine).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from the calling script's URL (its dist/bench or bench folder). */
export function repoRootOf(scriptUrl: string): string {
  let d = path.dirname(fileURLToPath(scriptUrl));
  while (!existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
  return d;
}

/** The value of `--name value` or `--name=value` on the command line, or `def`. */
export function arg(name: string, def?: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1];
}

/** CPU seconds (user + system, all threads) a child process has used so far; Linux /proc, else NaN. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
