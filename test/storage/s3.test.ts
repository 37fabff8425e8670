// Models in object storage, end to end against a real S3-API server: s3rver, started on a free loopback port by each
// test (behind a thin HTTP front of our own, which counts requests, can hold one back, and stops and restarts on the
// same port for an outage) and always stopped. The server and the exporter reach it as a TF Serving deployment
// would: S3_ENDPOINT, S3_USE_HTTPS=0, AWS_REGION and AWS credentials in the environment (s3rver checks the access key
// id; it does not verify v4 signatures).
// Models: TensorFlow-written half_plus_two (x/2+2) and half_plus_three (x/2+3) as versions of one model, so every
// answer says which version served it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { S3Store, s3ClientFromEnv } from '../../src/core/storage/s3-store.js';
import { publishModelToS3 } from '../../src/core/export/s3-publish.js';
import { startServing, type Serving, type ServingEvent } from '../../src/core/serving/server.js';
import { defaultBatching, type ModelConfig } from '../../src/core/serving/config.js';
import { readModelConfigUrl } from '../../src/core/serving/remote-config.js';
import { openCheckpoint } from '../../src/core/savedmodel/checkpoint.js';
import { modelFromPath } from '../../src/commands/serve.js';
import { modelFromImageEnv } from '../../src/core/serving/image-env.js';
import { needsShared, repoRoot, sharedModel } from '../helpers/shared-models.js';
import { call, until } from '../serving/helpers.js';

const BUCKET = 'models';
const REPO = `s3://${BUCKET}/prod`;
const BASE = `${REPO}/hpt`;
const FILES = ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'];
// A secret that must never show up in a log line or a client's answer.
const ACCESS_KEY = 'TFSVCTESTKEY';
const SECRET = `s3cr3t-${process.pid}-never-logged`;
// s3rver checks access key ids against its account registry: register our key pair (its default is S3RVER/S3RVER).
const account = createRequire(import.meta.url)('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
account.DUMMY_ACCOUNT.createKeyPair(ACCESS_KEY, SECRET);

interface Store {
  port: number;
  /** Requests seen, as "METHOD path?query". */
  requests: string[];
  /** When it returns a promise for a request, the request waits for it (a slow upload). */
  hold?: (req: http.IncomingMessage) => Promise<void> | undefined;
  /** Stops listening and drops every open connection: an outage. */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same objects. */
  restart(): Promise<void>;
}

async function startStore(t: TestContext): Promise<Store> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-s3rver-'));
  const s3 = new S3rver({ directory, silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
  await s3.configureBuckets();
  const handler = s3.callback();
  let server: http.Server | undefined;
  const store: Store = {
    port: 0,
    requests: [],
    stop: async () => {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    restart: async () => {
      const s = http.createServer((req, res) => {
        store.requests.push(`${req.method} ${req.url}`);
        const wait = store.hold?.(req);
        if (wait) void wait.then(() => handler(req, res));
        else void handler(req, res);
      });
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(store.port, '127.0.0.1', () => resolve()));
      store.port = (s.address() as AddressInfo).port;
      server = s;
    },
  };
  await store.restart();
  const env = { S3_ENDPOINT: `127.0.0.1:${store.port}`, S3_USE_HTTPS: '0', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  t.after(async () => {
    await store.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(directory, { recursive: true, force: true });
  });
  return store;
}

/** GETs of objects (not listings) under `prefix` (e.g. "prod/hpt/1/"). */
function objectGets(store: Store, prefix: string): number {
  return store.requests.filter((r) => r.startsWith(`GET /${BUCKET}/${prefix}`) && !r.includes('list-type')).length;
}

/** ListObjectsV2 requests so far (each poll lists once). */
function listings(store: Store): number {
  return store.requests.filter((r) => r.startsWith('GET ') && r.includes('list-type=2')).length;
}

function client(): S3Store {
  return new S3Store(s3ClientFromEnv());
}

/** The keys under `s3://models/prefix/`, relative to it. */
async function keys(prefix: string): Promise<string[]> {
  return (await client().list({ bucket: BUCKET, prefix })).map((o) => o.key).sort();
}

/** Uploads a SavedModel's files as version `v` the way another tool would: no markers, one object at a time. */
async function putPlain(src: string, v: number, files = FILES, edit: (f: string, b: Buffer) => Buffer = (_f, b) => b): Promise<void> {
  for (const f of files) await client().put({ bucket: BUCKET, prefix: 'prod/hpt' }, `${v}/${f}`, edit(f, readFileSync(path.join(src, f))));
}

interface Running {
  serving: Serving;
  port: number;
  logs: string[];
  cache: string;
}

async function serve(t: TestContext, opts: { pollSeconds: number; cache?: string; models?: ModelConfig[] }): Promise<Running> {
  const cache = opts.cache ?? mkdtempSync(path.join(os.tmpdir(), 'tfsvc-s3cache-'));
  const logs: string[] = [];
  const serving = await startServing({
    models: opts.models ?? [modelFromPath(BASE, undefined)],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: opts.pollSeconds,
    modelCacheDir: cache,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    log: (e: ServingEvent) => logs.push(JSON.stringify(e)),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await serving.close();
  };
  t.after(async () => {
    await close();
    if (!opts.cache) rmSync(cache, { recursive: true, force: true });
  });
  return { serving, port: serving.restPort, logs, cache };
}

async function predict(port: number): Promise<{ status: number; y?: number; text: string }> {
  const r = await call(port, 'POST', '/v1/models/hpt:predict', { instances: [2.0] });
  return { status: r.status, y: r.json?.predictions?.[0], text: r.text };
}

async function versionStatus(port: number, v?: number): Promise<{ version: string; state: string; status: { error_code: string; error_message: string } }[]> {
  const r = await call(port, 'GET', v === undefined ? '/v1/models/hpt' : `/v1/models/hpt/versions/${v}`);
  return r.json?.model_version_status ?? [];
}

/** Predicts in `n` loops until stopped; every answer must be 200 with one of `allowed`. */
function load(port: number, allowed: number[], n = 2): { stop: () => Promise<{ ok: number; failures: string[]; seen: Set<number> }> } {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<number>();
  const loop = async () => {
    while (!stopped) {
      const r = await predict(port);
      if (r.status === 200 && allowed.includes(r.y!)) {
        ok++;
        seen.add(r.y!);
      } else failures.push(`${r.status} ${r.text}`);
    }
  };
  const loops = Array.from({ length: n }, loop);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return { ok, failures, seen };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("TF Serving's S3 environment: S3_ENDPOINT, S3_USE_HTTPS, AWS_REGION; MODEL_BASE_PATH=s3:// as in the image", async () => {
  const plain = s3ClientFromEnv({ S3_ENDPOINT: 'minio.local:9000', S3_USE_HTTPS: '0', AWS_REGION: 'eu-west-1' });
  const ep = await plain.config.endpoint!();
  assert.deepEqual([ep.protocol, ep.hostname, ep.port], ['http:', 'minio.local', 9000]);
  assert.equal(await plain.config.region(), 'eu-west-1');
  assert.equal(plain.config.forcePathStyle, true, 'S3-compatible servers get path-style requests');
  const secure = s3ClientFromEnv({ S3_ENDPOINT: 'minio.local:9000', S3_REGION: 'ap-south-1' });
  assert.equal((await secure.config.endpoint!()).protocol, 'https:', 'S3_USE_HTTPS defaults to 1');
  assert.equal(await secure.config.region(), 'ap-south-1');
  assert.deepEqual(modelFromImageEnv({ MODEL_NAME: 'mnist', MODEL_BASE_PATH: 's3://models/prod/' }), { name: 'mnist', basePath: 's3://models/prod/mnist' });
});

test('export --repo s3:// then serve: REST answers; a version uploaded under load is taken only once complete, 0 failed requests', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const three = sharedModel('tfserving/saved_model_half_plus_three/00000123', t);
  const store = await startStore(t);

  const first = await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true });
  assert.equal(first.version, 1);
  assert.equal(first.url, `${BASE}/1`);
  assert.ok(first.validation?.ok, 'validated before upload');
  const listed = await keys('prod/hpt/1');
  assert.ok(listed.includes('.tfsvc-complete') && !listed.includes('.tfsvc-incomplete'), listed.join(', '));
  const manifest = JSON.parse(await client().readText({ bucket: BUCKET, prefix: 'prod/hpt/1' }, '.tfsvc-complete'));
  assert.deepEqual(manifest.files.map((f: { key: string }) => f.key).sort(), listed.filter((k) => !k.startsWith('.tfsvc-')));
  for (const f of manifest.files) assert.equal(f.size, statSync(path.join(two, f.key)).size, f.key);
  await assert.rejects(publishModelToS3(two, { repo: REPO, name: 'hpt', version: 1, validate: false }), /s3:\/\/models\/prod\/hpt\/1 already exists: refusing to overwrite/);

  const { port } = await serve(t, { pollSeconds: 0.05 });
  assert.equal((await predict(port)).y, 3);

  const traffic = load(port, [3, 4]);
  const done = publishModelToS3(three, {
    repo: REPO,
    name: 'hpt',
    next: true,
    validate: false,
    // Every file is uploaded, the manifest not yet: several polls later, version 2 must still be unknown.
    beforeComplete: async () => {
      const polls = listings(store);
      await until(() => listings(store) >= polls + 3, () => undefined, 10_000);
      assert.deepEqual(await versionStatus(port, 2), [], 'a version without its manifest is never taken');
    },
  });
  assert.equal((await done).version, 2);
  await until(async () => (await predict(port)).y === 4, () => undefined, 30_000);
  const { ok, failures, seen } = await traffic.stop();
  assert.deepEqual(failures, [], 'no request failed while version 2 was uploaded and loaded');
  assert.ok(ok > 10 && seen.has(3), `answers before the switch: ${ok}`);
});

test('Ctrl-C during an upload leaves an incomplete version that is never taken, and says so', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const store = await startStore(t);
  await publishModelToS3(two, { repo: REPO, name: 'hpt', version: 1, validate: false });
  const { serving, port } = await serve(t, { pollSeconds: 0 });

  // The checkpoint's data file is held back, so the exporter is surely mid-upload when it is interrupted.
  let held = false;
  let release: () => void = () => undefined;
  store.hold = (req) => {
    if (req.method !== 'PUT' || !req.url?.includes('variables.data')) return undefined;
    held = true;
    return new Promise<void>((r) => (release = r));
  };
  t.after(() => release());
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tfsvc'), 'export', two, '--repo', REPO, '--name', 'hpt', '--next', '--no-validate'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  t.after(() => child.kill('SIGKILL'));
  await until(() => held, () => undefined, 20_000);
  child.kill('SIGINT');
  assert.equal(await exited, 'SIGINT');
  store.hold = undefined;
  release();
  assert.match(stderr, /interrupted: s3:\/\/models\/prod\/hpt\/2 is left incomplete \(\.tfsvc-incomplete, no \.tfsvc-complete\), so no server takes it/);
  assert.ok(!stderr.includes(SECRET));
  const left = await keys('prod/hpt/2');
  assert.ok(left.includes('.tfsvc-incomplete') && !left.includes('.tfsvc-complete'), left.join(', '));

  // Even with every file there (the upload died after them), an incomplete version stays untaken.
  await putPlain(two, 2);
  for (let i = 0; i < 3; i++) await serving.poll();
  assert.deepEqual(await versionStatus(port, 2), []);
  assert.equal((await predict(port)).y, 3);
  // --next never reuses the dead upload's number.
  assert.equal((await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false })).version, 3);
});

test('a failed upload (the store goes away mid-upload) names what failed and what it left; no server takes it', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const store = await startStore(t);
  let release: () => void = () => undefined;
  t.after(() => release());
  store.hold = (req) => {
    if (req.method !== 'PUT' || !req.url?.includes('variables.data')) return undefined;
    store.hold = undefined;
    void store.stop();
    return new Promise<void>((r) => (release = r));
  };
  await assert.rejects(publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false }), (err: Error) => {
    assert.match(err.message, /^cannot upload s3:\/\/models\/prod\/hpt\/1\/.*; s3:\/\/models\/prod\/hpt\/1 is left incomplete \(\.tfsvc-incomplete, no \.tfsvc-complete\), so no server takes it/);
    assert.ok(!err.message.includes(SECRET));
    return true;
  });
  await store.restart();
  const left = await keys('prod/hpt/1');
  assert.ok(left.includes('.tfsvc-incomplete') && !left.includes('.tfsvc-complete'), left.join(', '));
  const { serving, port } = await serve(t, { pollSeconds: 0 });
  await serving.poll();
  await serving.poll();
  const r = await call(port, 'GET', '/v1/models/hpt');
  assert.equal(r.status, 404, r.text);
});

test('wrong credentials: the error names the bucket, the prefix and the reason, never the secret', async (t) => {
  await startStore(t);
  // s3rver checks the access key id (it does not verify v4 signatures, so a wrong secret alone would pass).
  // The SDK's credential chain reads process.env (startStore restores it).
  process.env.AWS_ACCESS_KEY_ID = 'NOSUCHKEY';
  const store = client();
  await assert.rejects(store.list({ bucket: BUCKET, prefix: 'prod/hpt' }), (err: Error) => {
    assert.match(err.message, /^cannot list s3:\/\/models\/prod\/hpt: InvalidAccessKeyId \(HTTP 403\)/);
    assert.ok(!err.message.includes(SECRET), err.message);
    return true;
  });
});

test("another tool's version is taken once its listing is stable across two polls; a deleted version is unloaded (latest policy), 0 failed requests", needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const three = sharedModel('tfserving/saved_model_half_plus_three/00000123', t);
  await startStore(t);
  await putPlain(two, 1);
  const { serving, port } = await serve(t, { pollSeconds: 0 });
  assert.equal((await predict(port)).y, 3, 'at startup a marker-less version is taken as it is');

  await putPlain(three, 2, FILES.slice(0, 1));
  await serving.poll();
  assert.deepEqual(await versionStatus(port, 2), [], 'first sight of a new listing');
  await putPlain(three, 2, FILES.slice(1));
  await serving.poll();
  assert.deepEqual(await versionStatus(port, 2), [], 'the listing changed since the last poll');
  await serving.poll();
  assert.equal((await versionStatus(port, 2))[0]?.state, 'AVAILABLE', 'unchanged across two polls');
  assert.equal((await predict(port)).y, 4);

  const traffic = load(port, [3, 4]);
  for (const f of FILES) await client().delete({ bucket: BUCKET, prefix: 'prod/hpt' }, `2/${f}`);
  await serving.poll();
  await until(async () => (await predict(port)).y === 3, () => undefined, 20_000);
  const { failures } = await traffic.stop();
  assert.deepEqual(failures, [], 'no request failed while falling back to version 1');
  assert.equal((await versionStatus(port, 1))[0]?.state, 'AVAILABLE');
  assert.notEqual((await versionStatus(port, 2))[0]?.state, 'AVAILABLE');
});

test('a store outage keeps the loaded version serving, with the error in model status and a metric, then recovers', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const three = sharedModel('tfserving/saved_model_half_plus_three/00000123', t);
  const store = await startStore(t);
  await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false });
  const { port, logs } = await serve(t, { pollSeconds: 0.05 });
  const storageErrors = async () => {
    const text = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
    return Number(/^tfsvc_storage_errors_total\{model_name="hpt"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  const traffic = load(port, [3, 4]);
  await store.stop();
  await until(async () => /model storage/.test((await versionStatus(port))[0]?.status.error_message ?? ''), () => undefined, 20_000);
  const during = (await versionStatus(port))[0]!;
  assert.equal(during.state, 'AVAILABLE');
  assert.equal(during.status.error_code, 'OK', 'probes and clients matching on the code see a serving model');
  assert.match(during.status.error_message, /^still serving; model storage: cannot list <model hpt>: /);
  assert.ok(!during.status.error_message.includes('s3://'), 'the bucket is not told to clients');
  assert.ok((await storageErrors()) >= 1);
  assert.ok(logs.some((l) => l.includes('source-error') && l.includes('cannot list s3://models/prod/hpt')), 'the log names the bucket and prefix');
  await sleep(300); // a few failing polls while traffic continues

  await store.restart();
  await publishModelToS3(three, { repo: REPO, name: 'hpt', next: true, validate: false });
  await until(async () => (await predict(port)).y === 4, () => undefined, 30_000);
  const { ok, failures } = await traffic.stop();
  assert.deepEqual(failures, [], 'no request failed during the outage');
  assert.ok(ok > 10);
  assert.equal((await versionStatus(port))[0]?.status.error_message, '', 'the error clears once the store answers');
  for (const l of logs) assert.ok(!l.includes(SECRET), 'no secret in the log');
});

test('the cache is reused across a restart (no download), also for a model config file read from s3://', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const store = await startStore(t);
  await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false });
  const cache = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-s3cache-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));

  const before = objectGets(store, 'prod/hpt/1/');
  const a = await serve(t, { pollSeconds: 0, cache });
  assert.equal((await predict(a.port)).y, 3);
  const downloads = objectGets(store, 'prod/hpt/1/');
  assert.ok(downloads - before >= FILES.length, `downloaded at first start: ${downloads - before}`);
  await a.serving.close();

  await client().put({ bucket: BUCKET, prefix: 'prod' }, 'models.config', Buffer.from(`model_config_list { config { name: "hpt" base_path: "${BASE}" model_platform: "tensorflow" } }`));
  const models = await readModelConfigUrl(`${REPO}/models.config`);
  assert.deepEqual(models.map((m) => [m.name, m.basePath]), [['hpt', BASE]]);
  const b = await serve(t, { pollSeconds: 0, cache, models });
  assert.equal((await predict(b.port)).y, 3);
  await b.serving.poll();
  assert.equal(objectGets(store, 'prod/hpt/1/'), downloads, 'nothing downloaded again: the manifest and files are cached');
  const cached = readdirSync(cache, { recursive: true }).map(String);
  assert.ok(cached.some((p) => p.endsWith(path.join('1', 'variables', 'variables.index'))), cached.join(', '));

  await client().put({ bucket: BUCKET, prefix: 'prod' }, 'relative.config', Buffer.from('model_config_list { config { name: "hpt" base_path: "hpt" } }'));
  await assert.rejects(readModelConfigUrl(`${REPO}/relative.config`), /relative\.config: model 'hpt' has the relative base_path "hpt"; a config file in object storage needs s3:\/\/ or absolute base paths/);
});

test('a model config file in s3:// is re-read every --model_config_file_poll_wait_seconds: models added and removed; an outage changes nothing', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const three = sharedModel('tfserving/saved_model_half_plus_three/00000123', t);
  const store = await startStore(t);
  await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false });
  await publishModelToS3(three, { repo: REPO, name: 'hp3', next: true, validate: false });
  const config = (names: string[]) =>
    client().put({ bucket: BUCKET, prefix: 'prod' }, 'models.config', Buffer.from(`model_config_list { ${names.map((n) => `config { name: "${n}" base_path: "${REPO}/${n}" }`).join(' ')} }`));
  await config(['hpt']);
  const url = `${REPO}/models.config`;
  const cache = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-s3cache-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const logs: string[] = [];
  const serving = await startServing({
    models: await readModelConfigUrl(url),
    modelConfigFile: url,
    modelConfigPollSeconds: 0.1,
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0.1,
    modelCacheDir: cache,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    log: (e: ServingEvent) => logs.push(JSON.stringify(e)),
  });
  t.after(() => serving.close());
  const port = serving.restPort;
  const hp3 = async () => (await call(port, 'POST', '/v1/models/hp3:predict', { instances: [2.0] })).json?.predictions?.[0];
  assert.equal((await predict(port)).y, 3);
  assert.notEqual(await hp3(), 4, 'hp3 is not configured yet');

  await config(['hpt', 'hp3']);
  await until(async () => (await hp3()) === 4, () => undefined, 20_000);

  // The store goes away: the config cannot be read, the models already served keep serving.
  await store.stop();
  await until(() => logs.some((l) => l.includes('config-error')), () => undefined, 20_000);
  assert.equal((await predict(port)).y, 3);
  assert.equal(await hp3(), 4);
  await store.restart();

  await config(['hpt']);
  await until(async () => (await call(port, 'POST', '/v1/models/hp3:predict', { instances: [2.0] })).status === 404, () => undefined, 20_000);
  assert.equal((await predict(port)).y, 3, 'the model kept in the config still serves');
  for (const l of logs) assert.ok(!l.includes(SECRET), 'no secret in the log');
});

test('tfsvc serve --model_config_file s3://... (the CLI, configured by the environment alone) answers predict', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  await startStore(t);
  await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false });
  await client().put({ bucket: BUCKET, prefix: 'prod' }, 'models.config', Buffer.from(`model_config_list { config { name: "hpt" base_path: "${BASE}" } }`));
  const cache = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-s3cache-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'tfsvc'), 'serve', `--model_config_file=${REPO}/models.config`, '--rest_api_port=0', '--port=0', '--host=127.0.0.1', '--file_system_poll_wait_seconds=0', '--enable_model_warmup=false'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TFSVC_MODEL_CACHE_DIR: cache } },
  );
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  await until(() => /REST API listening on 127\.0\.0\.1:\d+/.test(out) || child.exitCode !== null, () => undefined, 30_000);
  const port = Number(/REST API listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  assert.ok(port > 0, out);
  assert.equal((await predict(port)).y, 3);
  assert.ok(!out.includes(SECRET), 'no secret in the output');
  assert.doesNotMatch(out, /NodeVersionSupportWarning/, "the SDK's node-version notice stays out of serve's output");
});

test('a corrupt version (CRC32C mismatch in variables.data) is refused by export and by the server, which keeps the previous one', needsShared, async (t) => {
  const two = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  await startStore(t);
  await publishModelToS3(two, { repo: REPO, name: 'hpt', next: true, validate: false });
  const { serving, port } = await serve(t, { pollSeconds: 0 });

  const ckpt = await openCheckpoint(path.join(two, 'variables', 'variables'));
  const offset = Number(ckpt.entry('b').offset ?? 0);
  const flip = (f: string, bytes: Buffer) => {
    if (!f.includes('.data-')) return bytes;
    const copy = Buffer.from(bytes);
    copy[offset] = copy[offset]! ^ 0x10;
    return copy;
  };
  // The exporter validates before it uploads anything.
  const bad = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-corrupt-'));
  t.after(() => rmSync(bad, { recursive: true, force: true }));
  const { cpSync, writeFileSync } = await import('node:fs');
  cpSync(two, bad, { recursive: true });
  const data = path.join(bad, 'variables', 'variables.data-00000-of-00001');
  writeFileSync(data, flip(data, readFileSync(data)));
  await assert.rejects(publishModelToS3(bad, { repo: REPO, name: 'hpt', next: true }), /not published: validation failed/);
  assert.deepEqual(await keys('prod/hpt/2'), [], 'nothing uploaded');

  // Another tool uploads it anyway.
  await putPlain(two, 2, FILES, flip);
  await serving.poll();
  await serving.poll();
  await until(async () => (await versionStatus(port, 2))[0]?.state === 'END', () => undefined, 20_000);
  const refused = (await versionStatus(port, 2))[0]!;
  assert.equal(refused.status.error_code, 'DATA_LOSS');
  assert.match(refused.status.error_message, /^2\/variables\/variables\.data-00000-of-00001: CRC32C mismatch for variable "b"/);
  assert.equal((await versionStatus(port, 1))[0]?.state, 'AVAILABLE');
  assert.equal((await predict(port)).y, 3);
});
