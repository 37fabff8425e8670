// --grpc_channel_arguments: the TF Serving spelling of the gRPC server's idle timeout, stream cap and keepalive; parsed,
// then carried by startServing to either gRPC server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http2 from 'node:http2';
import { UsageError } from '../../src/core/errors.js';
import { parseGrpcChannelArguments } from '../../src/core/serving/grpc/channel-arguments.js';
import { GRPC_IMPLS } from '../../src/core/serving/grpc/server.js';
import { startServing } from '../../src/core/serving/server.js';
import { FAKE_ENGINE, tmpBase, writeVersion } from './helpers.js';

test('known keys set the h2 server options; other keys are returned to be warned about', () => {
  assert.deepEqual(parseGrpcChannelArguments('grpc.max_connection_idle_ms=2000, grpc.max_concurrent_streams=16,grpc.max_connection_age_ms=5,grpc.keepalive_time_ms=60000,grpc.keepalive_timeout_ms=5000'), {
    idleTimeoutMs: 2000,
    maxConcurrentStreams: 16,
    keepaliveTimeMs: 60000,
    keepaliveTimeoutMs: 5000,
    ignored: ['grpc.max_connection_age_ms'],
  });
  assert.deepEqual(parseGrpcChannelArguments(''), { ignored: [] });
  assert.equal(parseGrpcChannelArguments('grpc.max_connection_idle_ms=0').idleTimeoutMs, 0);
});

test('a malformed item or value is a usage error naming it', () => {
  assert.throws(() => parseGrpcChannelArguments('grpc.max_concurrent_streams'), (e: unknown) => e instanceof UsageError && /"grpc.max_concurrent_streams" is not key=value/.test(e.message));
  assert.throws(() => parseGrpcChannelArguments('grpc.max_connection_idle_ms=1s'), /grpc.max_connection_idle_ms takes a non-negative integer, not "1s"/);
  assert.throws(() => parseGrpcChannelArguments('grpc.max_concurrent_streams=0'), /must be at least 1/);
});

for (const impl of GRPC_IMPLS) test(`${impl}: the arguments reach the server startServing runs (stream cap advertised, idle connection closed)`, { timeout: 30_000 }, async (t) => {
  const base = tmpBase();
  writeVersion(base, 1, { mul: 2 });
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    grpcPort: 0,
    grpcImpl: impl,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    loaderModule: FAKE_ENGINE,
    limits: { grpcMaxConcurrentStreams: 7, grpcIdleTimeoutMs: 300 },
  });
  t.after(async () => {
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  const session = http2.connect(`http://127.0.0.1:${serving.grpcPort}`);
  session.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => session.on('close', resolve));
  const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
  assert.equal(settings.maxConcurrentStreams, 7);
  await closed; // no call: closed by the server after 300 ms
});
