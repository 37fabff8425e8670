// Health probes end to end: /healthz and /readyz over HTTP and grpc.health.v1.Health (Check and Watch) through a real
// grpc-js client, on startServing with the fake engine. Readiness follows model availability (a model waiting for its
// first version is not ready; a new version makes it ready) and goes off at shutdown before in-flight work finishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GRPC_IMPLS } from '../../src/core/serving/grpc/server.js';
import { service as healthService } from 'grpc-health-check';
import { startServing, type ServeOptions } from '../../src/core/serving/server.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';
import { callUnary, servingClients } from './grpc-clients.js';

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function healthClient(port: number): HealthClient {
  const Ctor = grpc.makeGenericClientConstructor(healthService, 'Health');
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

/** startServing on the fake engine with REST and gRPC on free loopback ports, one model per name under `base`. */
function serveModels(base: string, names: string[], extra: Partial<ServeOptions> = {}) {
  return startServing({
    models: names.map((name) => ({ name, basePath: path.join(base, name), policy: { kind: 'latest', numVersions: 1 }, labels: {} })),
    restPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    loaderModule: FAKE_ENGINE,
    ...extra,
  });
}

const check = (c: HealthClient, service: string) =>
  new Promise<{ status?: string; code?: number }>((resolve) => c.check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res!.status })));

for (const impl of GRPC_IMPLS) test(`healthz, readyz and the gRPC health service follow model availability and shutdown (${impl})`, async (t) => {
  const base = tmpBase();
  const runLog = path.join(base, 'runs.log');
  const holdFile = path.join(base, 'hold');
  writeVersion(path.join(base, 'm'), 1, { mul: 2, runLog, holdFile });
  mkdirSync(path.join(base, 'later'), { recursive: true }); // waits for its first version
  const serving = await serveModels(base, ['m', 'later'], { grpcImpl: impl });
  const client = healthClient(serving.grpcPort!);
  let closed = false;
  t.after(async () => {
    client.close();
    if (!closed) await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  const port = serving.restPort;

  assert.equal((await call(port, 'GET', '/healthz')).status, 200);
  let ready = await call(port, 'GET', '/readyz');
  assert.equal(ready.status, 503, 'one model has no version yet');
  assert.deepEqual(ready.json.not_ready.length, 1);
  assert.match(ready.json.not_ready[0], /model later: no version loaded yet/);
  assert.deepEqual(await check(client, 'm'), { status: 'SERVING' });
  assert.deepEqual(await check(client, 'later'), { status: 'NOT_SERVING' });
  assert.deepEqual(await check(client, ''), { status: 'NOT_SERVING' });
  assert.deepEqual(await check(client, 'no_such_model'), { code: grpc.status.NOT_FOUND });

  // A Watch on the server sees it become SERVING when the missing version appears, then NOT_SERVING at shutdown.
  const seen: string[] = [];
  const watch = client.watch({ service: '' });
  watch.on('data', (m: { status: string }) => seen.push(m.status));
  watch.on('error', () => undefined);
  const watchEnded = new Promise<void>((r) => watch.on('close', () => r()));
  await until(() => seen.length >= 1, () => undefined);
  writeVersion(path.join(base, 'later'), 1, { mul: 1 });
  await until(async () => (await call(port, 'GET', '/readyz')).status === 200, () => serving.poll());
  ready = await call(port, 'GET', '/readyz');
  assert.deepEqual(ready.json, { status: 'ready' });
  assert.deepEqual(await check(client, ''), { status: 'SERVING' });
  await until(() => seen.includes('SERVING'), () => undefined);

  // Shutdown with a request in flight: readiness is off while the request is still running.
  writeFileSync(holdFile, '');
  const inFlight = call(port, 'POST', '/v1/models/m:predict', { instances: [[1]] });
  await until(() => existsSync(runLog), () => undefined, 20_000);
  const closing = serving.close(20_000);
  closed = true;
  assert.equal(serving.health.readiness().ready, false);
  assert.match(serving.health.readiness().notReady.join(), /draining/);
  await until(() => seen.at(-1) === 'NOT_SERVING', () => undefined);
  await watchEnded; // the server ended the Watch so it does not hold the graceful shutdown
  rmSync(holdFile);
  const reply = await inFlight;
  assert.equal(reply.status, 200, 'the in-flight request still finishes');
  assert.deepEqual(reply.json, { predictions: [[2]] });
  await closing;
  assert.deepEqual(seen.slice(0, 1), ['NOT_SERVING']);
});

test('drain delay: gRPC health is NOT_SERVING while REST and gRPC predictions still succeed, then watches end', async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'm'), 1, { mul: 2 });
  const serving = await serveModels(base, ['m']);
  const client = healthClient(serving.grpcPort!);
  const { prediction } = servingClients(serving.grpcPort!);
  let closing: Promise<void> | undefined;
  t.after(async () => {
    client.close();
    prediction.close();
    await (closing ?? serving.close(0));
    rmSync(base, { recursive: true, force: true });
  });
  const seen: string[] = [];
  const watch = client.watch({ service: 'm' });
  watch.on('data', (m: { status: string }) => seen.push(m.status));
  watch.on('error', () => undefined);
  let watchClosed = false;
  const watchEnded = new Promise<void>((r) => watch.on('close', () => ((watchClosed = true), r())));
  await until(() => seen.includes('SERVING'), () => undefined);

  // A long delay, ended by the test once its checks are done (endDrainDelay, as a second SIGTERM does), so nothing
  // here depends on how fast the machine is.
  let delayOver = false;
  closing = serving.close(5_000, 60_000).then(() => {
    delayOver = true;
  });
  assert.deepEqual(await check(client, ''), { status: 'NOT_SERVING' });
  assert.deepEqual(await check(client, 'm'), { status: 'NOT_SERVING' });
  await until(() => seen.at(-1) === 'NOT_SERVING', () => undefined);
  assert.equal((await call(serving.restPort, 'GET', '/readyz')).status, 503);
  const rest = await call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[5]] });
  assert.equal(rest.status, 200);
  assert.deepEqual(rest.json, { predictions: [[10]] });
  const grpcReply = await callUnary(prediction, 'Predict', { modelSpec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [4] } } });
  assert.deepEqual(grpcReply.outputs.y.floatVal, [8]);
  assert.equal(watchClosed, false, 'watchers stay connected (and told NOT_SERVING) during the delay');
  assert.equal(delayOver, false);
  assert.equal(serving.endDrainDelay(), true);
  await closing;
  await watchEnded;
  assert.equal(serving.endDrainDelay(), false);
});

test('readiness during a model config reload: off while an added model has no version, on once it loads', async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'a'), 1, { mul: 2 });
  mkdirSync(path.join(base, 'b'), { recursive: true }); // exists, no version yet
  const file = path.join(base, 'models.config');
  writeFileSync(file, 'model_config_list { config { name: "a" base_path: "a" model_platform: "tensorflow" } }\n');
  const serving = await serveModels(base, ['a'], { modelConfigFile: file, modelConfigPollSeconds: 0.05 });
  const client = healthClient(serving.grpcPort!);
  t.after(async () => {
    client.close();
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  const port = serving.restPort;
  assert.equal((await call(port, 'GET', '/readyz')).status, 200);

  writeFileSync(file, 'model_config_list { config { name: "a" base_path: "a" } config { name: "b" base_path: "b" } }\n');
  await until(async () => (await call(port, 'GET', '/readyz')).status === 503, () => undefined);
  const ready = await call(port, 'GET', '/readyz');
  assert.deepEqual(ready.json.not_ready, ['model b: no version loaded yet']);
  assert.deepEqual(await check(client, 'b'), { status: 'NOT_SERVING' });
  assert.deepEqual(await check(client, ''), { status: 'NOT_SERVING' });
  assert.deepEqual(await check(client, 'a'), { status: 'SERVING' }, 'the model already served stays SERVING');
  assert.equal((await call(port, 'POST', '/v1/models/a:predict', { instances: [[1]] })).status, 200);

  writeVersion(path.join(base, 'b'), 1, { mul: 3 });
  await until(async () => (await call(port, 'GET', '/readyz')).status === 200, () => serving.poll());
  assert.deepEqual(await check(client, 'b'), { status: 'SERVING' });
  assert.deepEqual(await check(client, ''), { status: 'SERVING' });

  // Removing a model from the config: readiness no longer waits for it, and its health service answers NOT_SERVING.
  writeFileSync(file, 'model_config_list { config { name: "a" base_path: "a" } }\n');
  await until(async () => (await check(client, 'b')).status === 'NOT_SERVING', () => undefined);
  assert.equal((await call(port, 'GET', '/readyz')).status, 200);
});
