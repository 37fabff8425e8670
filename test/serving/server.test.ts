// `startServing` end to end over HTTP, with the fake engine in real worker threads: every route, both formats,
// labels, errors, hot version changes under load, a broken version, overload, timeouts, body limit, CORS, metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { startRestServer } from '../../src/core/serving/rest/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

const batching = { ...defaultBatching(), numBatchThreads: 2 };

describe('REST API over a fake engine', () => {
  let serving: Serving;
  let port: number;
  let base: string;
  before(async () => {
    base = tmpBase();
    writeVersion(path.join(base, 'm'), 1, { mul: 2 });
    writeVersion(path.join(base, 'm'), 2, { mul: 3 });
    writeVersion(path.join(base, 'hot'), 1, { mul: 1 });
    writeVersion(path.join(base, 'slow'), 1, { mul: 1, delayMs: 400 });
    serving = await startServing({
      models: [
        { name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'all' }, labels: { stable: 1, canary: 2 } },
        { name: 'hot', basePath: path.join(base, 'hot'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
        { name: 'slow', basePath: path.join(base, 'slow'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
      ],
      restPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching,
      loaderModule: FAKE_ENGINE,
    });
    port = serving.restPort;
  });
  after(async () => {
    await serving?.close();
    rmSync(base, { recursive: true, force: true });
  });

  test('predict, row and columnar formats, on the latest version, a version and a label', async () => {
    const row = await call(port, 'POST', '/v1/models/m:predict', { instances: [[1], [2]] });
    assert.equal(row.status, 200, row.text);
    assert.deepEqual(row.json, { predictions: [[3], [6]] });
    const col = await call(port, 'POST', '/v1/models/m/versions/1:predict', { inputs: { x: [[1], [2]] } });
    assert.deepEqual(col.json, { outputs: [[2], [4]] });
    const label = await call(port, 'POST', '/v1/models/m/labels/stable:predict', { instances: [[5]] });
    assert.deepEqual(label.json, { predictions: [[10]] });
    const canary = await call(port, 'POST', '/V1/MODELS/m/labels/canary:PREDICT', { signature_name: 'serving_default', instances: [[5]] });
    assert.deepEqual(canary.json, { predictions: [[15]] }, 'paths match case-insensitively like TF Serving');
  });

  test('status and metadata routes', async () => {
    const all = await call(port, 'GET', '/v1/models/m');
    assert.equal(all.status, 200);
    assert.deepEqual(all.json, {
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    assert.deepEqual((await call(port, 'GET', '/v1/models/m/versions/1')).json.model_version_status.map((s: any) => s.version), ['1']);
    assert.deepEqual((await call(port, 'GET', '/v1/models/m/labels/canary')).json.model_version_status.map((s: any) => s.version), ['2']);
    const meta = await call(port, 'GET', '/v1/models/m/versions/1/metadata');
    assert.equal(meta.status, 200, meta.text);
    assert.deepEqual(meta.json.model_spec, { name: 'm', signature_name: '', version: '1' });
  });

  test('errors: TF Serving texts and HTTP statuses', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/v1/models/nope:predict', { instances: [[1]] }, 404, /^Servable not found for request: Latest\(nope\)$/],
      ['POST', '/v1/models/m/versions/9:predict', { instances: [[1]] }, 404, /^Servable not found for request: Specific\(m, 9\)$/],
      ['POST', '/v1/models/m/labels/nope:predict', { instances: [[1]] }, 400, /^Unrecognized servable version label: nope$/],
      ['POST', '/v1/models/m:predict', { signature_name: 'nope', instances: [[1]] }, 400, /^Serving signature name: "nope" not found in signature def$/],
      ['POST', '/v1/models/m:predict', '{"instances": [[1]', 400, /./],
      ['POST', '/v1/models/m:predict', { instances: [[1]], inputs: { x: [[1]] } }, 400, /./],
      ['POST', '/v1/models/m:predict', {}, 400, /./],
      ['GET', '/v1/models/nope', undefined, 404, /^Could not find any versions of model nope$/],
      ['GET', '/v1/models/m/versions/9', undefined, 404, /^Could not find version 9 of model m$/],
      ['GET', '/v1/models', undefined, 400, /^Missing model name in request\.$/],
      ['POST', '/v1/models/m:explain', '{}', 400, /^Malformed request: POST \/v1\/models\/m:explain$/],
    ];
    for (const [method, p, body, status, text] of cases) {
      const r = await call(port, method, p, body);
      assert.equal(r.status, status, `${method} ${p}: ${r.text}`);
      assert.match(r.json.error, text, `${method} ${p}`);
    }
    assert.equal((await call(port, 'GET', '/elsewhere')).status, 404);
  });

  test('hot add and remove of versions under load: zero failed requests, traffic moves to the new version', async () => {
    const seen = new Set<number>();
    let failures = 0;
    let sent = 0;
    let stop = false;
    const loop = async () => {
      while (!stop && sent < 5000) {
        sent++;
        const r = await call(port, 'POST', '/v1/models/hot:predict', { instances: [[1]] });
        if (r.status !== 200) failures++;
        else seen.add(r.json.predictions[0][0]);
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    const versions = async () => (await call(port, 'GET', '/v1/models/hot')).json.model_version_status.map((s: any) => `${s.version}:${s.state}`).join(',');
    writeVersion(path.join(base, 'hot'), 2, { mul: 2 });
    await until(async () => (await versions()) === '2:AVAILABLE,1:END', () => serving.poll());
    await until(() => seen.has(2), () => undefined);
    rmSync(path.join(base, 'hot', '2'), { recursive: true });
    await until(async () => (await versions()) === '2:END,1:AVAILABLE', () => serving.poll());
    seen.clear();
    await until(() => seen.has(1), () => undefined);
    stop = true;
    await Promise.all(loops);
    assert.equal(failures, 0, `${failures} of ${sent} requests failed`);
    assert.ok(sent > 20);
  });

  test('a broken new version is reported in status with its error; the previous one keeps serving', async () => {
    writeVersion(path.join(base, 'hot'), 3, { fail: 'variables/variables.index: truncated' });
    await until(async () => (await call(port, 'GET', '/v1/models/hot/versions/3')).json?.model_version_status?.[0]?.state === 'END', () => serving.poll());
    const s = (await call(port, 'GET', '/v1/models/hot/versions/3')).json.model_version_status[0];
    assert.equal(s.state, 'END');
    assert.notEqual(s.status.error_code, 'OK');
    assert.match(s.status.error_message, /truncated/);
    const r = await call(port, 'POST', '/v1/models/hot:predict', { instances: [[4]] });
    assert.deepEqual(r.json, { predictions: [[4]] });
  });

  test('timeout (504), body limit (413) and CORS on a second front end over the same models', async (t) => {
    const rest = await startRestServer({ lookup: serving.lookup, port: 0, host: '127.0.0.1', timeoutMs: 100, maxBodyBytes: 64, cors: true });
    t.after(() => rest.close());
    const slow = await call(rest.port, 'POST', '/v1/models/slow:predict', { instances: [[1]] });
    assert.equal(slow.status, 504);
    assert.match(slow.json.error, /Deadline Exceeded/);
    const big = await call(rest.port, 'POST', '/v1/models/m:predict', { instances: Array.from({ length: 50 }, () => [1]) });
    assert.equal(big.status, 413);
    const pre = await call(rest.port, 'OPTIONS', '/v1/models/m:predict', undefined, { Origin: 'https://app.example' });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  });

  test('Prometheus metrics with TF Serving names and tfsvc additions', async () => {
    await call(port, 'POST', '/v1/models/m:predict', { instances: [[1]] });
    const r = await call(port, 'GET', '/monitoring/prometheus/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /^:tensorflow:serving:request_count\{model_name="m",status="OK"\} \d+/m);
    assert.match(r.text, /^:tensorflow:serving:request_count\{model_name="nope",status="NOT_FOUND"\} \d+/m);
    assert.match(r.text, /^:tensorflow:serving:request_latency_bucket\{le="10",model_name="m",API="Predict",entrypoint="REST"\}/m);
    // The broken version 3 of `hot` (an earlier test) counts as a failed load of its own directory, like a success does.
    assert.ok(r.text.includes(`:tensorflow:cc:saved_model:load_attempt_count{model_path="${path.join(base, 'hot', '3')}",status="fail"}`), 'failed load labelled with its path');
    for (const name of ['tfsvc_queue_delay_seconds_bucket', 'tfsvc_batch_size_bucket', 'tfsvc_inference_seconds_bucket', 'tfsvc_in_flight_requests', 'tfsvc_model_load_seconds', 'tfsvc_model_warmup_seconds', ':tensorflow:cc:saved_model:load_attempt_count']) {
      assert.match(r.text, new RegExp(`^${name}`, 'm'), name);
    }
  });
});

/** tfsvc_in_flight_requests for `model`: requests received and routed to it, not yet answered. */
async function inFlight(port: number, model: string): Promise<number> {
  const text = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
  const m = new RegExp(`^tfsvc_in_flight_requests\\{model_name="${model}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * A fake model version whose runs wait at a gate (see fake-engine.ts) until `release()`; `hold()` closes it again.
 * Tests use it to make requests queue up behind a busy worker deterministically instead of racing a delay.
 */
function gatedVersion(base: string, spec: Record<string, unknown>) {
  const holdFile = path.join(base, 'hold');
  const hold = () => writeFileSync(holdFile, '');
  const release = () => rmSync(holdFile, { force: true });
  hold();
  writeVersion(base, 1, { ...spec, holdFile });
  return { hold, release };
}

test('overload: a full batch queue answers 503 at once while accepted requests succeed', async (t) => {
  const base = tmpBase();
  const gate = gatedVersion(base, { mul: 1 });
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 1, maxBatchSize: 1, maxEnqueuedBatches: 2 },
    warmup: false,
    loaderModule: FAKE_ENGINE,
  });
  t.after(async () => {
    gate.release();
    await serving.close();
    rmSync(base, { recursive: true, force: true });
  });
  const N = 8;
  const answered: number[] = [];
  const pending = Array.from({ length: N }, () =>
    call(serving.restPort, 'POST', '/v1/models/m:predict', { instances: [[1]] }).then((r) => {
      answered.push(r.status);
      return r;
    }),
  );
  // While the one worker is held, the queue fills: every request has arrived once each is either answered or still
  // in flight (held or queued). Those answered by then were refused at once, without waiting for the worker.
  await until(async () => answered.length + (await inFlight(serving.restPort, 'm')) === N, () => undefined);
  assert.ok(answered.length > 0, 'some requests are refused while the worker is busy');
  assert.ok(answered.every((s) => s === 503), `answered while the worker is held: ${answered}`);
  gate.release();
  const replies = await Promise.all(pending);
  const statuses = replies.map((r) => r.status).sort();
  assert.ok(statuses.includes(503), `statuses: ${statuses}`);
  assert.ok(statuses.includes(200), `statuses: ${statuses}`);
  assert.ok(statuses.every((s) => s === 200 || s === 503), `statuses: ${statuses}`);
  const refused = replies.find((r) => r.status === 503)!;
  assert.match(refused.json.error, /The batch scheduling queue to which this task was submitted is full/);
  const metrics = await call(serving.restPort, 'GET', '/monitoring/prometheus/metrics');
  assert.match(metrics.text, /^:tensorflow:serving:request_count\{model_name="m",status="UNAVAILABLE"\} \d+/m);
});

test('concurrent requests are batched together on the workers', async (t) => {
  const base = tmpBase();
  const gate = gatedVersion(base, {});
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    warmup: false,
    loaderModule: FAKE_ENGINE,
  });
  t.after(async () => {
    gate.release();
    await serving.close();
    rmSync(base, { recursive: true, force: true });
  });
  // Sends 10 requests while the one worker is held, waits until all 10 are in flight (the first one running, the
  // rest queued behind it), then lets the worker go.
  const concurrently = async (signature: string) => {
    gate.hold();
    const pending = Array.from({ length: 10 }, () => call(serving.restPort, 'POST', '/v1/models/m:predict', { signature_name: signature, instances: [[0]] }));
    await until(async () => (await inFlight(serving.restPort, 'm')) === 10, () => undefined);
    gate.release();
    return Promise.all(pending);
  };
  const replies = await concurrently('echo_batch');
  assert.deepEqual(replies.map((r) => r.status), Array(10).fill(200));
  const sizes = replies.map((r) => r.json.predictions[0][0] as number);
  assert.ok(Math.max(...sizes) > 1, `batch sizes seen: ${sizes}`);
  // A signature whose dim 0 is fixed ([1, 1]) is never batched: every concurrent request runs alone and succeeds.
  const fixed = await concurrently('fixed_batch');
  assert.deepEqual(fixed.map((r) => `${r.status} ${JSON.stringify(r.json)}`), Array(10).fill('200 {"predictions":[[1]]}'));
});
