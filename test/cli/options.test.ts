// The flags that inspect, run, validate and export share (src/commands/options.ts) reject bad values the same way in
// every command: exit 2 and one message naming the option, before any model is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isModelUrl } from '../../src/commands/options.js';
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

test('--backend is one of the engine backends in run, validate, export and serve', async () => {
  for (const args of [['run', MODEL, '--input', '{}'], ['validate', MODEL], ['export', MODEL, 'out'], ['serve', MODEL]]) {
    const r = await runCli([...args, '--backend', 'tpu']);
    assert.equal(r.code, 2, args[0]);
    assert.match(r.stderr, /option '--backend <name>' argument 'tpu' is invalid\. choose one of wasm, cpu, webgpu, tensorflow, auto/, args[0]);
  }
});

test('inspect and validate agree on what is a model URL (http or https, any case) and what is a path', async () => {
  for (const url of ['http://host:8501/v1/models/m', 'HTTPS://host/v1/models/m', 'Http://127.0.0.1:1/v1/models/m']) assert.ok(isModelUrl(url), url);
  for (const p of ['models/m', './http-models', '/srv/https/m', 'http:/one-slash', 'ftp://host/m', '']) assert.ok(!isModelUrl(p), p);
  // A loopback port nobody listens on (taken, then freed): a URL target fails to connect, a look-alike path is a path.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  for (const command of ['inspect', 'validate']) {
    const remote = await runCli([command, `HTTP://127.0.0.1:${port}/v1/models/m`]);
    assert.match(remote.stderr, /cannot connect/, `${command}: ${remote.stderr}`);
    const local = await runCli([command, './http-not-a-model']);
    assert.match(local.stderr, /http-not-a-model: no such file or directory/, `${command}: ${local.stderr}`);
  }
});
