// bench and warmup over TF Serving's gRPC API, against the real tfsvc gRPC server (startGrpcServer over a fake
// half_plus_two): the same counts, exit codes and SLO gates as over REST, and the server's own message when it refuses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveTarget } from '../../src/core/load/target.js';
import { runCli } from './cli-helper.js';
import { startGrpcFixture, type GrpcFixture } from './grpc-fixture.js';

/**
 * Runs the CLI and records what it wrote to stdout and stderr. Writes still go through: under `node --test` this
 * process's stdout also carries the test runner's own events.
 */
async function runCaptured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    out += String(chunk);
    return write.out.call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    err += String(chunk);
    return write.err.call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return { code: await runCli(args), out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

test('gRPC targets: grpc://host[:port] or --protocol grpc; the model travels in the ModelSpec, not a path', () => {
  const t = resolveTarget('grpc://models.internal', { model: 'm', version: '3' });
  assert.equal(t.protocol, 'grpc');
  assert.equal(t.grpcAddress, 'models.internal:8500');
  assert.equal(t.version, '3');
  assert.equal(resolveTarget('localhost:9000', { model: 'm', protocol: 'grpc' }).grpcAddress, 'localhost:9000');
  assert.equal(resolveTarget('http://localhost:8501', { model: 'm' }).protocol, 'rest');
  assert.throws(() => resolveTarget('grpc://h:8500/v1/models/m:predict', {}), /host:port only/);
  assert.throws(() => resolveTarget('grpc://h:8500', { model: 'm', protocol: 'rest' }), /gRPC URL/);
});

describe('bench and warmup over gRPC', () => {
  let fast: GrpcFixture;
  let slow: GrpcFixture;
  let dir: string;
  before(async () => {
    fast = await startGrpcFixture();
    slow = await startGrpcFixture({ delayMs: 10 });
    dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-grpc-'));
  });
  after(async () => {
    await fast?.close();
    await slow?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a short open-loop run sends exactly the requested count through Predict, with zero errors', async () => {
    const json = path.join(dir, 'run.json');
    const before = fast.calls;
    const r = await runCaptured(['bench', fast.url, '--model', 'half_plus_two', '--qps', '100', '--requests', '60', '--connections', '4', '--no-progress', '--json', json]);
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(result.counts.requests, 60);
    assert.equal(result.counts.ok, 60);
    assert.deepEqual(result.counts.byKind, {});
    assert.match(result.info.target, /^grpc:\/\/127\.0\.0\.1:\d+\/tensorflow\.serving\.PredictionService\/Predict/);
    // 60 measured calls plus the preflight reached the model.
    assert.equal(fast.calls - before, 61);
    assert.match(r.out, /requests: +60 in .*60 ok, 0 errors/);
  });

  test('regress signatures get RegressionRequests built from --feature', async () => {
    const json = path.join(dir, 'regress.json');
    const r = await runCaptured(['bench', fast.url, '--model', 'half_plus_two', '--signature', 'regress_x_to_y', '--feature', 'x=float', '--batch', '3',
      '--qps', '50', '--requests', '20', '--no-progress', '--json', json]);
    assert.equal(r.code, 0, r.err);
    assert.match(JSON.parse(readFileSync(json, 'utf8')).info.target, /PredictionService\/Regress/);
    assert.equal(JSON.parse(readFileSync(json, 'utf8')).counts.ok, 20);
  });

  test('an unknown model exits 2 with the server\'s message', async () => {
    const r = await runCaptured(['bench', fast.url, '--model', 'nope', '--qps', '10', '--requests', '5', '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.err, /NOT_FOUND: Servable not found for request: Latest\(nope\)/);
    const v = await runCaptured(['bench', fast.url, '--model', 'half_plus_two', '--version', '7', '--qps', '10', '--requests', '5', '--no-progress']);
    assert.equal(v.code, 2);
    assert.match(v.err, /Specific\(half_plus_two, 7\)/);
  });

  test('nothing listening: exit 2 (connection error)', async () => {
    const gone = await startGrpcFixture();
    await gone.close();
    const r = await runCaptured(['bench', gone.url, '--model', 'half_plus_two', '--qps', '10', '--requests', '5', '--timeout', '5s', '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot reach grpc:\/\//);
  });

  test('SLO gates: exit 0 when they hold, 1 when one fails, as over REST', async () => {
    const common = ['bench', slow.url, '--model', 'half_plus_two', '--qps', '50', '--requests', '25', '--no-progress'];
    assert.equal((await runCaptured([...common, '--slo', 'p50<5s', '--slo', 'error_rate<1%'])).code, 0);
    // The server's own 10 ms delay makes p50<1ms impossible.
    const failed = await runCaptured([...common, '--slo', 'p50<1ms']);
    assert.equal(failed.code, 1);
    assert.match(failed.err, /SLO failed.*p50<1ms/);
  });

  test('--data over gRPC takes warmup files only', async () => {
    const jsonl = path.join(dir, 'bodies.jsonl');
    writeFileSync(jsonl, '{"instances": [[1.0]]}\n');
    const r = await runCaptured(['bench', fast.url, '--model', 'half_plus_two', '--data', jsonl, '--qps', '10', '--requests', '5', '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.err, /over gRPC, --data takes a TF Serving warmup file/);
  });

  test('warmup over gRPC reads the signatures from GetModelMetadata and warms each batch size', async () => {
    const out = path.join(dir, 'wd');
    const r = await runCaptured(['warmup', fast.url, '--model', 'half_plus_two', '--batch', '1,4', '--feature', 'x=float', '--write', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /serving_default +│ 4 +│ OK/);
    assert.match(r.out, /regress_x_to_y +│ 1 +│ OK/);
    assert.match(r.out, /wrote 4 requests/);
    // The written warmup file replays over gRPC as --data.
    const json = path.join(dir, 'replay.json');
    const replay = await runCaptured(['bench', fast.url, '--model', 'half_plus_two', '--data', path.join(out, 'assets.extra', 'tf_serving_warmup_requests'),
      '--qps', '20', '--requests', '10', '--no-progress', '--json', json]);
    assert.equal(replay.code, 0, replay.err);
    assert.equal(JSON.parse(readFileSync(json, 'utf8')).counts.ok, 10);
  });
});
