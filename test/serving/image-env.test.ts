// The tensorflow/serving image's launch conventions and binding: MODEL_NAME / MODEL_BASE_PATH with no path argument,
// the error naming every way to give a model, --port=0 turning gRPC off, --rest_host / --grpc_host binding each API
// separately, and load errors reaching clients without the server's filesystem paths unless --debug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelFromImageEnv } from '../../src/core/serving/image-env.js';
import { startServing } from '../../src/core/serving/server.js';
import { call, FAKE_ENGINE, tmpBase, writeVersion } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** Runs `tfsvc serve ...args` with `env`; resolves once it printed AVAILABLE (or exited), with its output so far. */
function serve(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(CLI)}); await m.main(['node', 'tfsvc', ...process.argv.slice(1)]);`, 'serve', ...args],
    { env: { ...process.env, MODEL_NAME: '', MODEL_BASE_PATH: '', TFSVC_LOADER_MODULE: FAKE_ENGINE, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in time: ${out}`)), 30_000);
    const onData = () => {
      if (/AVAILABLE at/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { child, ready, exited, output: () => out, stop: () => child.exitCode === null && child.kill('SIGKILL') };
}

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('MODEL_NAME and MODEL_BASE_PATH resolve like the tensorflow/serving image', () => {
  const base = tmpBase();
  try {
    mkdirSync(path.join(base, 'mnist'));
    // The image: MODEL_BASE_PATH is the parent, the model is $MODEL_BASE_PATH/$MODEL_NAME.
    assert.deepEqual(modelFromImageEnv({ MODEL_NAME: 'mnist', MODEL_BASE_PATH: base }), { name: 'mnist', basePath: path.join(base, 'mnist') });
    // MODEL_BASE_PATH naming the model's own base directory works too.
    assert.deepEqual(modelFromImageEnv({ MODEL_NAME: 'mnist', MODEL_BASE_PATH: path.join(base, 'mnist') }), { name: 'mnist', basePath: path.join(base, 'mnist') });
    assert.deepEqual(modelFromImageEnv({ MODEL_NAME: 'x' }), { name: 'x', basePath: '/models/x' });
    assert.deepEqual(modelFromImageEnv({ MODEL_NAME: 'mnist', MODEL_BASE_PATH: base }, 'other'), { name: 'other', basePath: path.join(base, 'mnist') });
    assert.equal(modelFromImageEnv({}), undefined);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('serve with only MODEL_NAME/MODEL_BASE_PATH, REST and gRPC on separate hosts; --port=0 turns gRPC off', async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'mnist'), 1, { mul: 2 });
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const common = ['--rest_api_port=0', '--enable_model_warmup=false', '--file_system_poll_wait_seconds=0'];

  const grpcPort = await freePort('127.0.0.2');
  const a = serve([...common, '--rest_host=127.0.0.1', '--grpc_host=127.0.0.2', `--port=${grpcPort}`], { MODEL_NAME: 'mnist', MODEL_BASE_PATH: base });
  t.after(a.stop);
  await a.ready;
  assert.match(a.output(), /serving mnist versions \[1\] AVAILABLE/, a.output());
  assert.match(a.output(), /REST API listening on 127\.0\.0\.1:\d+/);
  assert.match(a.output(), new RegExp(`gRPC API listening on 127\\.0\\.0\\.2:${grpcPort}`));
  const restPort = Number(/REST API listening on 127\.0\.0\.1:(\d+)/.exec(a.output())![1]);
  assert.deepEqual((await call(restPort, 'POST', '/v1/models/mnist:predict', { instances: [[2]] })).json, { predictions: [[4]] });
  a.child.kill('SIGTERM');
  assert.equal(await a.exited, 0);

  const b = serve([...common, '--host=127.0.0.1', '--port=0'], { MODEL_NAME: 'mnist', MODEL_BASE_PATH: path.join(base, 'mnist') });
  t.after(b.stop);
  await b.ready;
  assert.match(b.output(), /serving mnist versions \[1\] AVAILABLE/, b.output());
  assert.doesNotMatch(b.output(), /gRPC API listening/, '--port=0 disables gRPC as in TF Serving');
  b.child.kill('SIGTERM');
  assert.equal(await b.exited, 0);

  const c = serve([...common, '--host=127.0.0.1', '--port=0'], {});
  assert.equal(await c.exited, 2);
  assert.match(c.output(), /MODEL_NAME/);
  assert.match(c.output(), /--model_base_path/);
  assert.match(c.output(), /--model_config_file/);
});

test('load errors reach clients without filesystem paths, unless debug', async (t) => {
  const base = tmpBase();
  mkdirSync(path.join(base, 'm', '1'), { recursive: true }); // no fake.json: fails to load, naming its file
  writeVersion(path.join(base, 'ok'), 1, { mul: 1 });
  // An engine error naming a file outside the model's directory (as a runtime library's message would).
  writeVersion(path.join(base, 'lib'), 1, { fail: 'cannot map /srv/private/layout/libkernels.so: permission denied' });
  t.after(() => rmSync(base, { recursive: true, force: true }));
  for (const debug of [false, true]) {
    const serving = await startServing({
      models: [
        { name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
        { name: 'ok', basePath: path.join(base, 'ok'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
        { name: 'lib', basePath: path.join(base, 'lib'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
      ],
      restPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      warmup: false,
      loaderModule: FAKE_ENGINE,
      envelope: { debug },
    });
    try {
      const status = await call(serving.restPort, 'GET', '/v1/models/m');
      const message: string = status.json.model_version_status[0].status.error_message;
      assert.match(message, /fake\.json/, 'the message still says what is wrong');
      // The loader names files relative to the model's base path (loader.ts), so no absolute path reaches a client;
      // with --debug a path left in a message would be kept as it is.
      if (!debug) {
        assert.ok(!message.includes(base), message);
        assert.doesNotMatch(message, /\/tmp\//);
        assert.match(message, /^(<model m>|1)\b|1: /);
      }
      // The same through the open readiness probe and the model status: the foreign path only with --debug.
      const ready = await call(serving.restPort, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      const lib = (ready.json.not_ready as string[]).find((l) => l.startsWith('model lib:'))!;
      const libStatus: string = (await call(serving.restPort, 'GET', '/v1/models/lib')).json.model_version_status[0].status.error_message;
      for (const text of [lib, libStatus]) {
        assert.match(text, /libkernels\.so: permission denied/);
        if (debug) assert.match(text, /\/srv\/private\/layout\/libkernels\.so/);
        else assert.ok(!text.includes('/srv/private') && !ready.text.includes(base), text);
      }
    } finally {
      await serving.close(0);
    }
  }
});
