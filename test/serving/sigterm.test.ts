// `tfsvc serve` as a child process: prints where it listens, and on SIGTERM finishes in-flight requests and exits 0.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const LAUNCH = ['--input-type=module', '-e', `const m = await import(${JSON.stringify(CLI)}); await m.main(['node', 'tfsvc', ...process.argv.slice(1)]);`];

/** `tfsvc serve` (fake engine) in a child process, killed and `base` removed when the test ends. */
function serveChild(t: TestContext, base: string, args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [...LAUNCH, 'serve', ...args], { env: { ...process.env, TFSVC_LOADER_MODULE: FAKE_ENGINE }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  });
  return child;
}

test('SIGTERM drains in-flight requests, then exits 0', async (t) => {
  const base = tmpBase();
  // The run is gated (see fake-engine.ts): it logs that it started, then waits until the test removes holdFile, so the
  // request is provably in flight when SIGTERM arrives, whatever the machine's load.
  const runLog = path.join(base, 'runs.log');
  const holdFile = path.join(base, 'hold');
  writeFileSync(holdFile, '');
  writeVersion(base, 1, { mul: 2, runLog, holdFile });
  const child = serveChild(t, base, [base, '--model_name=m', '--rest_api_port=0', '--host=127.0.0.1', '--enable_model_warmup=false', '--file_system_poll_wait_seconds=0', '--port=0',
    '--tensorflow_intra_op_parallelism=2', '--grpc_channel_arguments=grpc.max_connection_age_ms=5,grpc.max_concurrent_streams=8', '--access-log', '--log-format=json']);
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in time; output: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /REST API listening on [\d.]+:(\d+)/.exec(out);
      if (m && /AVAILABLE at/.test(out)) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  assert.match(out, /serving m versions \[1\] AVAILABLE/);
  assert.match(out, /ignoring TF Serving flag --tensorflow_intra_op_parallelism/, 'TF Serving launch flags are accepted');
  assert.match(out, /--grpc_channel_arguments: ignoring grpc.max_connection_age_ms \(not supported by tfsvc\)/, 'gRPC arguments tfsvc does not apply are named');
  assert.doesNotMatch(out, /grpc.max_concurrent_streams \(not supported/);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const inFlight = call(port, 'POST', '/v1/models/m:predict', { instances: [[21]] });
  await until(() => existsSync(runLog), () => undefined, 20_000);
  child.kill('SIGTERM');
  // The server has seen the signal and is waiting for the held request; only then let the run finish.
  await until(() => /SIGTERM: draining/.test(out), () => undefined, 20_000);
  assert.equal(child.exitCode, null, 'still running while a request is in flight');
  rmSync(holdFile);
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, { predictions: [[42]] });
  assert.equal(await exited, 0, out);
  assert.match(out, /SIGTERM: draining 1 in-flight request/);
  const access = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.msg === 'request');
  assert.ok(access, 'a JSON access log line');
  assert.equal(access.method, 'POST');
  assert.equal(access.path, '/v1/models/m:predict');
  assert.equal(access.status, 200);
  assert.equal(access.model, 'm');
  assert.equal(access.version, 1);
});

/** One request on a fresh connection with node:http (whose answer shows the Connection header). */
function rawCall(port: number, method: string, urlPath: string, body?: unknown): Promise<{ status: number; connection?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('--drain_delay_seconds: at SIGTERM readiness is off while requests are still served, then the drain', async (t) => {
  const base = tmpBase();
  writeVersion(base, 1, { mul: 2 });
  // The delay is long enough for the checks below on a loaded machine; the test asserts they ran inside it (the
  // "draining" line had not been printed yet), not how long anything took.
  const delaySeconds = 6;
  const child = serveChild(t, base, [base, '--model_name=m', '--rest_api_port=0', '--port=0', '--host=127.0.0.1', '--enable_model_warmup=false', '--file_system_poll_wait_seconds=0',
    `--drain_delay_seconds=${delaySeconds}`]);
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await until(() => /AVAILABLE at/.test(out) || child.exitCode !== null, () => undefined, 20_000);
  const port = Number(/REST API listening on [\d.]+:(\d+)/.exec(out)![1]);
  assert.equal((await rawCall(port, 'GET', '/readyz')).status, 200);

  child.kill('SIGTERM');
  await until(() => /SIGTERM: readiness off/.test(out), () => undefined, 20_000);
  const ready = await rawCall(port, 'GET', '/readyz');
  assert.equal(ready.status, 503, 'load balancers see the pod go unready at once');
  assert.match(JSON.parse(ready.text).not_ready.join(' '), /draining/);
  assert.equal((await rawCall(port, 'GET', '/healthz')).status, 200, 'still alive');
  // New connections are still accepted and predictions answered, each answer asking the client to reconnect elsewhere.
  const predict = await rawCall(port, 'POST', '/v1/models/m:predict', { instances: [[21]] });
  assert.equal(predict.status, 200, predict.text);
  assert.deepEqual(JSON.parse(predict.text), { predictions: [[42]] });
  assert.equal(predict.connection, 'close');
  assert.doesNotMatch(out, /draining \d+ in-flight/, 'all of the above happened inside the delay');
  assert.equal(child.exitCode, null);

  // Then the drain: the listener closes and the process exits 0.
  assert.equal(await exited, 0, out);
  assert.match(out, /SIGTERM: draining 0 in-flight request\(s\) and shutting down/);
  await assert.rejects(rawCall(port, 'GET', '/healthz'), /ECONNREFUSED/);
});

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    [...LAUNCH, ...args],
    { env: { ...process.env, TFSVC_LOADER_MODULE: FAKE_ENGINE }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

test('bad usage exits 2 and a model that cannot load exits 1, each with a one-line reason', async (t) => {
  const missing = await runCli(['serve', '/nonexistent/models/m', '--rest_api_port=0', '--port=0']);
  assert.equal(missing.code, 2, missing.out);
  assert.match(missing.out, /tfsvc: \/nonexistent\/models\/m: no such directory/);
  const flag = await runCli(['serve', '/tmp', '--enable_batching=maybe', '--rest_api_port=0', '--port=0']);
  assert.equal(flag.code, 2, flag.out);
  assert.match(flag.out, /--enable_batching takes true or false/);
  const impl = await runCli(['serve', '/tmp', '--grpc_impl=grpcio', '--rest_api_port=0', '--port=0']);
  assert.equal(impl.code, 2, impl.out);
  assert.match(impl.out, /--grpc_impl takes h2 or grpc-js, not "grpcio"/);
  const base = tmpBase();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  writeVersion(base, 3, { fail: 'saved_model.pb: truncated protobuf' });
  const broken = await runCli(['serve', base, '--model_name=b', '--rest_api_port=0', '--port=0', '--file_system_poll_wait_seconds=0']);
  assert.equal(broken.code, 1, broken.out);
  assert.match(broken.out, /tfsvc: no model could be loaded: b: version 3: saved_model\.pb: truncated protobuf/);
});
