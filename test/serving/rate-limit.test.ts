// Rate limits and the concurrency cap: token buckets on a fake clock (no wall-clock thresholds), then end to end on
// startServing: a burst then 429 + Retry-After on REST and RESOURCE_EXHAUSTED on gRPC, clients keyed by JWT sub,
// refusal before the body is read, --max_concurrent_requests with a held request, and outcome metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as jose from 'jose';
import { RateLimiter } from '../../src/core/serving/rate-limit.js';
import { startServing, type ServeOptions } from '../../src/core/serving/server.js';
import { GRPC_IMPLS, servingServiceDefinitions, type GrpcImpl } from '../../src/core/serving/grpc/server.js';
import { call, FAKE_ENGINE, headOnlyPost, tmpBase, until, writeVersion } from './helpers.js';

test('token buckets: burst, refill, per-client and global, refusals cost nothing', () => {
  let now = 0;
  const rl = new RateLimiter({ perClient: 2, perClientBurst: 3, global: 10, globalBurst: 4 }, () => now);
  for (let i = 0; i < 3; i++) assert.deepEqual(rl.take('a'), { ok: true });
  const over = rl.take('a');
  assert.equal(over.ok, false);
  assert.ok(!over.ok && over.scope === 'client' && Math.abs(over.retryAfterSeconds - 0.5) < 1e-9, JSON.stringify(over));
  // b has its own bucket, but the global burst (4) is spent after one more.
  assert.deepEqual(rl.take('b'), { ok: true });
  const global = rl.take('b');
  assert.ok(!global.ok && global.scope === 'global');
  now += 0.5; // a refills one token (2/s), the server five (10/s, capped at 4)
  assert.deepEqual(rl.take('a'), { ok: true });
  assert.equal(rl.take('a').ok, false);
  // Many distinct clients stay bounded.
  const small = new RateLimiter({ perClient: 1, maxClients: 100 }, () => now);
  for (let i = 0; i < 1000; i++) small.take(`c${i}`);
  assert.ok(small.trackedClients() <= 100);
});

function options(base: string, envelope: ServeOptions['envelope'], grpcPort?: number, grpcImpl?: GrpcImpl): ServeOptions {
  return {
    models: [{ name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    grpcPort,
    grpcImpl,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    loaderModule: FAKE_ENGINE,
    envelope,
  };
}

for (const impl of GRPC_IMPLS) test(`a burst, then 429 with Retry-After (REST) and RESOURCE_EXHAUSTED (gRPC ${impl}); JWT sub is the client`, async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'm'), 1, { mul: 2 });
  const secretFile = path.join(base, 'secret');
  const secret = 'rate-limit-test-secret-0123456789abcdef';
  writeFileSync(secretFile, secret);
  // 0.01/s: nothing refills during the test, so the counts are exact on any machine.
  const serving = await startServing(options(base, { rateLimit: { perClient: 0.01, perClientBurst: 3 }, auth: { secretFile, modelClaim: null } }, 0));
  t.after(async () => {
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  const key = new TextEncoder().encode(secret);
  const token = (sub: string) => new jose.SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key);
  const alice = { Authorization: `Bearer ${await token('alice')}` };
  const bob = { Authorization: `Bearer ${await token('bob')}` };
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] }, alice)).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const refused = await call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] }, alice);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1, `Retry-After: ${refused.headers.get('retry-after')}`);
  assert.match(refused.json.error, /Rate limit exceeded/);
  // Another subject from the same address has its own bucket.
  assert.equal((await call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] }, bob)).status, 200);
  // Refused before reading the body: headers announcing 50 MB, no body sent, the 429 comes at once.
  const early = await headOnlyPost(serving.restPort, '/v1/models/m:predict', 50_000_000, { Authorization: alice.Authorization });
  assert.match(early, /^HTTP\/1\.1 429/);
  assert.match(early, /Retry-After: \d+/i);
  // gRPC shares the buckets: bob has two tokens left.
  const Model = grpc.makeGenericClientConstructor(servingServiceDefinitions().model, 'ModelService');
  const client = new Model(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  t.after(() => client.close());
  const md = new grpc.Metadata();
  md.set('authorization', bob.Authorization);
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) {
    codes.push(await new Promise<number>((r) => client.GetModelStatus({ modelSpec: { name: 'm' } }, md, (err: grpc.ServiceError | null) => r(err ? err.code : 0))));
  }
  assert.deepEqual(codes, [0, 0, grpc.status.RESOURCE_EXHAUSTED]);
  const metrics = await call(serving.restPort, 'GET', '/monitoring/prometheus/metrics');
  assert.match(metrics.text, /tfsvc_gate_requests_total\{api="REST",outcome="rate_limited"\} 4/);
  assert.match(metrics.text, /tfsvc_gate_requests_total\{api="REST",outcome="admitted"\} 4/);
  assert.match(metrics.text, /tfsvc_gate_requests_total\{api="gRPC",outcome="rate_limited"\} 1/);
});

test('--max_concurrent_requests refuses what is over the cap while a request is held', async (t) => {
  const base = tmpBase();
  const runLog = path.join(base, 'runs.log');
  const holdFile = path.join(base, 'hold');
  writeVersion(path.join(base, 'm'), 1, { mul: 2, runLog, holdFile });
  const serving = await startServing(options(base, { maxConcurrentRequests: 1 }));
  t.after(async () => {
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  writeFileSync(holdFile, '');
  const held = call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] });
  await until(() => existsSync(runLog), () => undefined, 20_000);
  const over = await call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] });
  assert.equal(over.status, 429);
  assert.match(over.json.error, /Too many concurrent requests \(the limit is 1\)/);
  assert.equal(over.headers.get('retry-after'), '1');
  assert.equal((await call(serving.restPort, 'GET', '/readyz')).status, 200, 'probes are never capped');
  rmSync(holdFile);
  assert.equal((await held).status, 200);
  assert.equal((await call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] })).status, 200, 'the slot is released');
});
