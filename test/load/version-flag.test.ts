// `--version V` on bench and warmup (issue 5) reaches the subcommand: the root program uses positional options, so
// only `tfsvc --version` (before any subcommand) prints tfsvc's version. `--model-version` stays as another name.
// Through the real CLI entry point, against a local stand-in for TF Serving that records the request paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { version as packageVersion } from '../../src/version.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';

async function recordingServer(t: { after(fn: () => unknown): void }): Promise<{ server: FixtureServer; paths: Set<string> }> {
  const paths = new Set<string>();
  const server = await startFixtureServer({ onBody: (_body, url) => paths.add(url) });
  t.after(() => server.close());
  return { server, paths };
}

/**
 * Runs the CLI with what it writes to stdout recorded, one entry per write (commander prints --version there; under
 * `node --test` the runner's own reports go through the same stream, in writes of their own).
 */
async function runCapturingStdout(args: string[]): Promise<{ code: number; writes: string[] }> {
  const write = process.stdout.write;
  const writes: string[] = [];
  // Pass every write through: swallowing the runner's reports would lose test results.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    writes.push(chunk.toString());
    return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { code: await runCli(args), writes };
  } finally {
    process.stdout.write = write;
  }
}

test('bench --version V sends to .../versions/V; --model-version V does the same', async (t) => {
  for (const flag of ['--version', '--model-version']) {
    const { server, paths } = await recordingServer(t);
    const code = await runCli(['bench', server.url, '--model', 'half_plus_two', flag, '7', '--qps', '50', '--requests', '5', '--no-progress']);
    assert.equal(code, 0, flag);
    assert.deepEqual([...paths], ['/v1/models/half_plus_two/versions/7:predict'], flag);
  }
});

test('warmup --version V sends to .../versions/V', async (t) => {
  const { server, paths } = await recordingServer(t);
  const { code, writes } = await runCapturingStdout(['warmup', server.url, '--model', 'half_plus_two', '--version', '7']);
  assert.equal(code, 0);
  assert.ok(writes.some((w) => w.startsWith('warmup /v1/models/half_plus_two/versions/7 ')), writes.join(''));
  assert.deepEqual([...paths], ['/v1/models/half_plus_two/versions/7:predict']);
});

test('--version and --model-version that disagree, or --version with --label, are usage errors (exit 2)', async () => {
  const base = ['bench', 'http://127.0.0.1:1', '--model', 'm', '--qps', '10', '--no-progress'];
  assert.equal(await runCli([...base, '--version', '1', '--model-version', '2']), 2);
  assert.equal(await runCli([...base, '--version', '1', '--label', 'stable']), 2);
  assert.equal(await runCli(['warmup', 'http://127.0.0.1:1', '--model', 'm', '--version', 'latest']), 2);
});

test('tfsvc --version still prints the package version', async () => {
  const { code, writes } = await runCapturingStdout(['--version']);
  assert.equal(code, 0);
  assert.ok(writes.includes(`${packageVersion}\n`), writes.join(''));
});

test('flags written after `bench merge` belong to merge: --slo gates the merged result', async (t) => {
  const { server } = await recordingServer(t);
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-version-flag-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = path.join(dir, 'run.json');
  assert.equal(await runCli(['bench', server.url, '--model', 'm', '--qps', '50', '--requests', '5', '--no-progress', '--json', run]), 0);
  assert.equal(await runCli(['bench', 'merge', run, run, '--slo', 'error_rate<1%']), 0);
  // No real request answers in under a microsecond: this SLO must fail, which proves merge saw it.
  assert.equal(await runCli(['bench', 'merge', run, run, '--slo', 'p50<1us']), 1);
});
