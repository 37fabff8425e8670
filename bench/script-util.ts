// What the bench scripts share: the repository root, `--name value` / `--name=value` arguments, a child process's
// CPU time (to report server CPU per request, which moves less than throughput on a shared machine), and the Docker
// image's runtime settings (servers under test run as the image runs them).
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

/** `NAME=value` from the Dockerfile's ENV line (the image's settings, read where they are defined), or ''. */
export function imageSetting(root: string, name: string): string {
  try {
    const m = new RegExp(`^ENV .*?\\b(${name}=\\S+)`, 'm').exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
    return m ? m[1]! : '';
  } catch {
    return '';
  }
}

/**
 * Node flags for a server under test: `--server-node-args` when given, else the image's (docker/entrypoint.sh passes
 * the Dockerfile's TFSVC_NODE_FLAGS to node).
 */
export function serverNodeArgs(root: string): string[] {
  return (arg('server-node-args') ?? imageSetting(root, 'TFSVC_NODE_FLAGS').replace(/^TFSVC_NODE_FLAGS=/, '')).split(' ').filter(Boolean);
}
