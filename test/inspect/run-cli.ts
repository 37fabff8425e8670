// Runs the real tfsvc CLI (this build's src/cli.js) in a child process, as a user would, and captures its output and
// exit code. A tiny entry script in the temp dir does what bin/tfsvc does, pointed at this build instead of dist/.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js')).href;
let entry: string | undefined;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tfsvc ...args` with stdout/stderr as pipes (so: not a TTY). `env` is added to the current environment. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  if (!entry) {
    entry = path.join(mkdtempSync(path.join(os.tmpdir(), 'tfsvc-cli-')), 'tfsvc.mjs');
    writeFileSync(entry, `import(${JSON.stringify(cliModule)}).then((m) => m.main(process.argv));\n`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry!, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
