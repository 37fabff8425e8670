// docker/entrypoint.sh, the image's entry point: `docker run IMAGE [flags]` serves, `docker run IMAGE bench URL` runs
// that subcommand, and tfsvc is exec'd (same PID) so tini's SIGTERM reaches it and starts the drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/shared-models.js';

test('the entry point turns flags into `tfsvc serve`, passes subcommands through, and execs tfsvc', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-entry-'));
  try {
    const fake = path.join(dir, 'tfsvc');
    // Prints its PID, then its arguments one per line.
    writeFileSync(fake, '#!/bin/sh\necho "pid=$$"\nfor a in "$@"; do echo "$a"; done\n');
    chmodSync(fake, 0o755);
    // Stands in for node: prints the flags it was given, then execs the script after them (same PID).
    const node = path.join(dir, 'node');
    writeFileSync(node, '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --*) echo "node-flag=$1"; shift ;; *) break ;; esac; done\nexec "$@"\n');
    chmodSync(node, 0o755);
    let flags: string[] = [];
    const run = (...args: string[]) => {
      const r = spawnSync('/bin/sh', ['-c', `echo "shell=$$"; exec "$0" "$@"`, path.join(repoRoot, 'docker/entrypoint.sh'), ...args], {
        env: { ...process.env, TFSVC_BIN: fake, TFSVC_NODE: node, TFSVC_NODE_FLAGS: flags.join(' '), MODEL_NAME: 'mnist' },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      const shell = lines.shift()!.slice('shell='.length);
      for (const f of flags) assert.equal(lines.shift(), `node-flag=${f}`, 'node gets TFSVC_NODE_FLAGS before the script');
      const pid = lines.shift()!.slice('pid='.length);
      assert.equal(pid, shell, 'tfsvc runs in the entry point\'s own process (exec)');
      return lines;
    };
    assert.deepEqual(run(), ['serve']);
    assert.deepEqual(run('--rest_api_port=9000', '--enable_batching'), ['serve', '--rest_api_port=9000', '--enable_batching']);
    assert.deepEqual(run('bench', 'http://127.0.0.1:8501', '--qps', '10'), ['bench', 'http://127.0.0.1:8501', '--qps', '10']);
    assert.deepEqual(run('serve', '--model_name', 'a b'), ['serve', '--model_name', 'a b']);
    // The image's node flags (the Dockerfile's TFSVC_NODE_FLAGS), each its own argument.
    flags = [/^ENV .*?TFSVC_NODE_FLAGS=(\S+)/m.exec(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'))![1]!];
    assert.deepEqual(flags, ['--initial-old-space-size=128']);
    assert.deepEqual(run('--port=8500'), ['serve', '--port=8500']);
    flags = ['--initial-old-space-size=128', '--max-semi-space-size=16'];
    assert.deepEqual(run('bench', 'x'), ['bench', 'x']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
