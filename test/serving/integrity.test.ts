// Load-time integrity (issue 8 item 3) with the real engine on TensorFlow-written half_plus_two: a new version whose
// checkpoint has one flipped byte, or whose saved_model.pb is cut short, is dropped in while the server polls and takes
// traffic. It never becomes AVAILABLE, status says DATA_LOSS and names the file (relative to the base path) and the
// variable, the old version answers every request meanwhile, and metadata lists only signatures that run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServing } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { openCheckpoint } from '../../src/core/savedmodel/checkpoint.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { call, tmpBase, until } from './helpers.js';

const FILES = ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'];

/** Writes a copy of `src` as version `v` of `base` atomically (built aside, then renamed in), with `edit` applied. */
function dropVersion(src: string, base: string, v: number, edit: (file: string, bytes: Buffer) => Buffer = (_f, b) => b): void {
  const staging = path.join(path.dirname(base), `staging-${v}`);
  mkdirSync(path.join(staging, 'variables'), { recursive: true });
  for (const f of FILES) writeFileSync(path.join(staging, f), edit(f, readFileSync(path.join(src, f))));
  renameSync(staging, path.join(base, String(v)));
}

test('a corrupt or truncated new version never becomes AVAILABLE; the old one keeps serving every request', needsShared, async (t) => {
  const src = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t);
  const root = tmpBase();
  const base = path.join(root, 'hpt');
  mkdirSync(base);
  dropVersion(src, base, 1);
  const serving = await startServing({
    models: [{ name: 'hpt', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0.05,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
  });
  t.after(async () => {
    await serving.close();
    rmSync(root, { recursive: true, force: true });
  });
  const port = serving.restPort;
  const status = async (v: number) => (await call(port, 'GET', `/v1/models/hpt/versions/${v}`)).json?.model_version_status?.[0];

  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const loop = async () => {
    while (!stop) {
      const r = await call(port, 'POST', '/v1/models/hpt:predict', { instances: [[2.0]] });
      if (r.status === 200 && r.json.predictions[0][0] === 3) ok++;
      else failures.push(`${r.status} ${r.text}`);
    }
  };
  const loops = [loop(), loop()];

  // One flipped byte inside variable "b" (y = a*x + b).
  const ckpt = await openCheckpoint(path.join(src, 'variables', 'variables'));
  const offset = Number(ckpt.entry('b').offset ?? 0);
  dropVersion(src, base, 2, (f, bytes) => {
    if (!f.includes('.data-')) return bytes;
    const copy = Buffer.from(bytes);
    copy[offset] = copy[offset]! ^ 0x10;
    return copy;
  });
  await until(async () => (await status(2))?.state === 'END', () => undefined, 30_000);
  const corrupt = await status(2);
  assert.equal(corrupt.status.error_code, 'DATA_LOSS');
  assert.match(corrupt.status.error_message, /^2\/variables\/variables\.data-00000-of-00001: CRC32C mismatch for variable "b"/);
  assert.ok(!corrupt.status.error_message.includes(root), 'no absolute path reaches the client');

  // A saved_model.pb cut in half.
  dropVersion(src, base, 3, (f, bytes) => (f === 'saved_model.pb' ? bytes.subarray(0, bytes.length >> 1) : bytes));
  await until(async () => (await status(3))?.state === 'END', () => undefined, 30_000);
  const truncated = await status(3);
  assert.equal(truncated.status.error_code, 'DATA_LOSS');
  assert.match(truncated.status.error_message, /^3\/saved_model\.pb: /);
  assert.ok(!truncated.status.error_message.includes(root));

  await until(() => ok > 50, () => undefined, 30_000);
  stop = true;
  await Promise.all(loops);
  assert.deepEqual(failures, [], 'no request failed on the old version while the broken ones were tried');
  assert.equal((await status(1)).state, 'AVAILABLE');
  const metadata = await call(port, 'GET', '/v1/models/hpt/metadata');
  assert.equal(metadata.json.model_spec.version, '1');
  const listed = Object.keys(metadata.json.metadata.signature_def.signature_def).filter((k) => !k.startsWith('__'));
  for (const k of listed) {
    const r = await call(port, 'POST', '/v1/models/hpt:predict', { signature_name: k, instances: [[2.0]] });
    assert.notEqual(r.status, 500, `metadata lists ${k}, which must run`);
    assert.doesNotMatch(r.text, /not available/);
  }

  // A good version 4 is still taken: the failed ones did not block the model.
  dropVersion(src, base, 4);
  await until(async () => (await status(4))?.state === 'AVAILABLE', () => undefined, 30_000);
});
