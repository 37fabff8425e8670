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
import { startServing } from '../../src/core/serving/server.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function healthClient(port: number): HealthClient {
  const Ctor = grpc.makeGenericClientConstructor(healthService, 'Health');
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

const check = (c: HealthClient, service: string) =>
  new Promise<{ status?: string; code?: number }>((resolve) => c.check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res!.status })));

for (const impl of GRPC_IMPLS) test(`healthz, readyz and the gRPC health service follow model availability and shutdown (${impl})`, async (t) => {
  const base = tmpBase();
  const runLog = path.join(base, 'runs.log');
  const holdFile = path.join(base, 'hold');
  writeVersion(path.join(base, 'm'), 1, { mul: 2, runLog, holdFile });
  mkdirSync(path.join(base, 'later'), { recursive: true }); // waits for its first version
  const serving = await startServing({
    models: [
      { name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
      { name: 'later', basePath: path.join(base, 'later'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
    ],
    restPort: 0,
    grpcPort: 0,
    grpcImpl: impl,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    loaderModule: FAKE_ENGINE,
  });
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
