// `tfsvc inspect` as a user runs it: a child process, its output and exit code. Broken models are copies of the shared
// ones in a temp dir, corrupted the ways files really break (truncated, a flipped byte, a deleted shard).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { copyModel, tempDir } from '../savedmodel/model-copy.js';
import { runCli, type CliResult } from './run-cli.js';

const HALF_PLUS_TWO = 'tfserving/saved_model_half_plus_two_cpu/00000123';

/** The CLI failed with `code` and exactly one line on stderr matching `pattern`, no stack trace. */
function assertOneLineError(r: CliResult, code: number, pattern: RegExp) {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^tfsvc: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
}

test('inspect prints the signature table, summary and versions; piped output has no colors', needsShared, async (t) => {
  const r = await runCli(['inspect', sharedModel('tfserving/saved_model_half_plus_two_2_versions', t)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /version\s+124 \(newest; versions: 123, 124\)/);
  assert.match(r.stdout, /serving_default\s+│ predict\s+│ in\s+│ x\s+│ DT_FLOAT\s+│ \[-1, 1\]\s+│ x:0/);
  assert.match(r.stdout, /classify_x_to_y .*│ DT_STRING\s+│ unknown rank/);
  assert.match(r.stdout, /CRC32C ok/);
  assert.match(r.stdout, /assets\s+foo\.txt/);
  assert.doesNotMatch(r.stdout, /\x1b\[/, 'no ANSI escapes when stdout is not a terminal');
});

test('--signatures prints only the table; --version picks a version', needsShared, async (t) => {
  const base = sharedModel('tfserving/saved_model_half_plus_two_2_versions', t);
  const r = await runCli(['inspect', base, '--signatures']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Signatures/);
  assert.doesNotMatch(r.stdout, /SavedModel /);
  const v = await runCli(['inspect', base, '--json', '--version', '123']);
  assert.equal(v.code, 0, v.stderr);
  const doc = JSON.parse(v.stdout);
  assert.equal(doc.version, 123);
  assert.equal(doc.dir, path.join(base, '00000123'));
  const missing = await runCli(['inspect', base, '--version', '7']);
  assertOneLineError(missing, 2, /no version 7 \(versions: 123, 124\)/);
});

test('--json is one parseable document with variables; --all adds ops and functions', needsShared, async (t) => {
  const r = await runCli(['inspect', sharedModel('tfserving/saved_model_half_plus_two_tf2_cpu/00000123', t), '--json', '--all']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.format, 'tfsvc.inspect/v1');
  assert.equal(doc.checkpoint.crc, 'ok');
  assert.deepEqual(doc.checkpoint.variables.find((v: { key: string }) => v.key === 'a/.ATTRIBUTES/VARIABLE_VALUE').values, [0.5]);
  assert.ok(doc.ops.length > 0 && doc.functions.length > 0);
  assert.equal(doc.producer.tensorflowVersion, '2.14.0');
});

test('non-numeric directories in a base directory are ignored with a note', needsShared, async (t) => {
  const base = copyModel(sharedModel('tfserving/saved_model_half_plus_two_2_versions', t), t);
  mkdirSync(path.join(base, 'tmp-export'));
  const r = await runCli(['inspect', base]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ignored\s+tmp-export \(not version numbers/);
  const j = JSON.parse((await runCli(['inspect', base, '--json'])).stdout);
  assert.deepEqual(j.ignoredDirs, ['tmp-export']);
  assert.deepEqual(j.versions, [123, 124]);
});

test('missing directory: usage error, exit 2', async () => {
  assertOneLineError(await runCli(['inspect', '/nonexistent/model']), 2, /\/nonexistent\/model: no such file or directory/);
});

test('a directory without saved_model.pb: usage error naming it, exit 2', async (t) => {
  const dir = tempDir(t);
  assertOneLineError(await runCli(['inspect', dir]), 2, /not a SavedModel directory \(no saved_model\.pb/);
});

test('variables/ but no saved_model.pb: bad model, exit 1', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  rmSync(path.join(dir, 'saved_model.pb'));
  assertOneLineError(await runCli(['inspect', dir]), 1, /saved_model\.pb: missing/);
});

test('truncated saved_model.pb: exit 1 naming the file; --debug adds the stack', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const pb = path.join(dir, 'saved_model.pb');
  truncateSync(pb, Math.floor(statSync(pb).size / 2));
  assertOneLineError(await runCli(['inspect', dir]), 1, new RegExp(`${pb}: not a valid SavedModel protobuf \\(truncated`));
  const debug = await runCli(['inspect', dir, '--debug']);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /\n\s+at /, 'stack trace with --debug');
});

test('garbage saved_model.pb: exit 1 naming the file', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const pb = path.join(dir, 'saved_model.pb');
  writeFileSync(pb, 'this is not a protobuf, it is a text file\n');
  assertOneLineError(await runCli(['inspect', dir]), 1, new RegExp(`${pb}: not a valid SavedModel protobuf`));
});

test('a deleted data shard: exit 1 naming the shard', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const shard = path.join(dir, 'variables', 'variables.data-00000-of-00001');
  rmSync(shard);
  assertOneLineError(await runCli(['inspect', dir]), 1, new RegExp(`${shard}: checkpoint data shard is missing`));
  // The signature table alone does not need the checkpoint.
  assert.equal((await runCli(['inspect', dir, '--signatures'])).code, 0);
});

test('a flipped byte in a data shard: CRC error naming the variable and shard, exit 1', needsShared, async (t) => {
  const dir = copyModel(sharedModel('keras/mnist_dense_keras2/1', t), t);
  const shard = path.join(dir, 'variables', 'variables.data-00000-of-00001');
  const bytes = readFileSync(shard);
  bytes[bytes.length - 3000] ^= 0x01; // inside the last big tensor
  writeFileSync(shard, bytes);
  const r = await runCli(['inspect', dir]);
  assertOneLineError(r, 1, new RegExp(`${shard}: CRC32C mismatch for variable ".+"`));
  // --no-verify skips the check (and says so).
  const skip = await runCli(['inspect', dir, '--no-verify']);
  assert.equal(skip.code, 0, skip.stderr);
  assert.match(skip.stdout, /CRC32C not checked/);
});

test('a truncated checkpoint index: exit 1 naming the index', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const index = path.join(dir, 'variables', 'variables.index');
  truncateSync(index, statSync(index).size - 20);
  assertOneLineError(await runCli(['inspect', dir]), 1, new RegExp(`${index}: not a valid checkpoint index`));
});

test('unknown tag set: usage error listing the available ones', needsShared, async (t) => {
  assertOneLineError(
    await runCli(['inspect', sharedModel(HALF_PLUS_TWO, t), '--tag-set', 'serve,gpu']),
    2,
    /no meta graph with tag set "serve,gpu" \(available tag sets: "serve"\)/,
  );
});

test('inspect a served model by URL through its metadata endpoint', needsShared, async (t) => {
  const metadata = readFileSync(sharedModel('tfserving/half_plus_two_model_metadata.json', t));
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/models/half_plus_two/metadata') res.end(metadata);
    else if (req.url === '/v1/models/half_plus_two') {
      res.end(JSON.stringify({ model_version_status: [{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: `Servable not found for request: ${req.url}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/models`;

  const r = await runCli(['inspect', `${base}/half_plus_two`, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.source, 'url');
  assert.equal(doc.version, 123);
  assert.deepEqual(doc.versions, [123]);
  assert.deepEqual(doc.signatures.serving_default.inputs.x, { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] });
  assert.ok(seen.includes('/v1/models/half_plus_two/metadata'));

  const text = await runCli(['inspect', `${base}/half_plus_two`, '--signatures']);
  assert.match(text.stdout, /regress_x2_to_y3/);

  assertOneLineError(await runCli(['inspect', `${base}/other`]), 2, /HTTP 404: Servable not found/);
});

test('an unreachable URL is a one-line usage error', async () => {
  // Port 9 (discard) on loopback: nothing listens there in a test environment.
  assertOneLineError(await runCli(['inspect', 'http://127.0.0.1:9/v1/models/x']), 2, /cannot connect \(ECONNREFUSED\)/);
});

test('an `assets` file where the folder belongs is a warning, not an internal error (text and JSON)', async (t) => {
  const { encodePlain } = await import('../../src/core/proto/schema.js');
  const dir = path.join(tempDir(t), 'm', '1');
  mkdirSync(dir, { recursive: true });
  const meta = {
    metaInfoDef: { tags: ['serve'] },
    graphDef: { node: [{ name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } }] },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } } },
        outputs: { y: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } } },
      },
    },
  };
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
  writeFileSync(path.join(dir, 'assets'), ''); // e.g. an empty macOS placeholder copied along with the model
  const text = await runCli(['inspect', path.dirname(dir)]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /warning\s+assets is a file, not a folder: the model has no assets files/);
  assert.doesNotMatch(text.stdout + text.stderr, /ENOTDIR|internal error/);
  const json = await runCli(['inspect', dir, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual(doc.assets, []);
  assert.deepEqual(doc.warnings, ['assets is a file, not a folder: the model has no assets files (TensorFlow reads only assets/ as a folder)']);
});

test('kerasVersion comes from keras_metadata.pb for TF 2.6+ Keras exports', needsShared, async (t) => {
  const r = await runCli(['inspect', sharedModel('wild/msft_lstm', t), '--json', '--signatures']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.producer.tensorflowVersion, '2.6.0');
  assert.equal(doc.producer.kerasVersion, '2.6.0');
});
