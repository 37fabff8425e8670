// The flags that inspect, run, validate and export share (src/commands/options.ts) reject bad values the same way in
// every command: exit 2 and one message naming the option, before any model is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../inspect/run-cli.js';

const MODEL = 'fixtures/models/mnist';

test('--version must be a non-negative integer in inspect, run and export', async () => {
  for (const args of [['inspect', MODEL], ['run', MODEL, '--input', '{}'], ['export', MODEL, '--repo', '/nonexistent', '--name', 'm']]) {
    const r = await runCli([...args, '--version', '1.5']);
    assert.equal(r.code, 2, args[0]);
    assert.match(r.stderr, /option '--version <n>' argument '1\.5' is invalid\. a version is a non-negative integer/, args[0]);
  }
});

test('--tag-set needs at least one tag in inspect, run and validate', async () => {
  for (const args of [['inspect', MODEL], ['run', MODEL, '--input', '{}'], ['validate', MODEL]]) {
    const r = await runCli([...args, '--tag-set', ' , ']);
    assert.equal(r.code, 2, args[0]);
    assert.match(r.stderr, /option '--tag-set <tags>' argument ' , ' is invalid\. give one or more tags/, args[0]);
  }
});

test('--backend is one of the engine backends in run, validate and export', async () => {
  for (const args of [['run', MODEL, '--input', '{}'], ['validate', MODEL], ['export', MODEL, 'out']]) {
    const r = await runCli([...args, '--backend', 'tpu']);
    assert.equal(r.code, 2, args[0]);
    assert.match(r.stderr, /option '--backend <name>' argument 'tpu' is invalid\. choose one of wasm, cpu, tensorflow, auto/, args[0]);
  }
});
