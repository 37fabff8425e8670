// Runs the real CLI entry point (src/cli.ts `main`) in-process and returns its exit code, restoring
// process.exitCode so the test runner's own exit status is untouched.
import { main } from '../../src/cli.js';

export async function runCli(args: string[]): Promise<number> {
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', 'tfsvc', ...args]);
    return Number(process.exitCode ?? 0);
  } finally {
    process.exitCode = before;
  }
}
