// --grpc_channel_arguments: the TF Serving spelling of the gRPC server's idle timeout and stream cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/core/errors.js';
import { parseGrpcChannelArguments } from '../../src/core/serving/grpc/channel-arguments.js';

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
