// `tfsvc validate`: good models pass every check (exit 0, stable JSON); corrupt, incomplete, unsupported or wrong
// models fail the right check with a message that names the problem (exit 1); bad invocations exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { exportTfjsAsSavedModel } from '../../src/core/export/tfjs-to-savedmodel.js';
import type { ValidationReport } from '../../src/core/validate/report.js';
import { validateTarget } from '../../src/core/validate/validate.js';
import { needsShared, repoRoot, sharedModel, sharedModelsDir } from '../helpers/shared-models.js';
import { runCli } from '../export/cli.js';
import { saveLayersModel } from '../export/helpers.js';

const fixture = path.join(repoRoot, 'fixtures', 'models', 'mnist');

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-val-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A writable copy of `src` (shared models are read-only). */
function copy(src: string, dest: string): string {
  cpSync(src, dest, { recursive: true });
  const fix = (p: string) => {
    chmodSync(p, 0o755);
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) fix(q);
      else chmodSync(q, 0o644);
    }
  };
  fix(dest);
  return dest;
}

const failures = (r: ValidationReport) => r.versions.flatMap((v) => v.checks.filter((c) => c.status === 'fail').map((c) => `${v.model ?? ''}/${v.version ?? ''} ${c.check}: ${c.detail}`));

test('CLI: the fixture repository validates green, exit 0, with a stable JSON report', () => {
  const r = runCli(['validate', fixture, '--json', '--batch', '3']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const doc = JSON.parse(r.stdout) as ValidationReport;
  assert.equal(doc.schema, 1);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.versions.map((v) => [v.model, v.version, v.ok]), [['mnist', 1, true], ['mnist', 2, true]]);
  for (const v of doc.versions) {
    assert.deepEqual(v.checks.map((c) => c.check), ['layout', 'checksums', 'load', 'inference:serving_default']);
    assert.match(v.checks[3]!.detail, /image float\[3,28,28\] → probabilities float\[3,10\]; finite/);
  }
  assert.deepEqual(doc.summary, { versions: 2, passed: 8, failed: 0, warnings: 0 });
  const human = runCli(['validate', path.join(fixture, '2'), '--golden', path.join(repoRoot, 'fixtures', 'mnist-v2.golden.json')]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /golden:serving_default\s*│ PASS/);
  assert.match(human.stdout, /valid: 1 version, 5 checks passed, 0 failed/);
});

test('a corrupt checkpoint fails the checksum check naming the shard and variable (exit 1)', { ...needsShared }, (t) => {
  const dir = copy(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t), path.join(tmp(t), '123'));
  const shard = path.join(dir, 'variables', 'variables.data-00000-of-00001');
  const bytes = readFileSync(shard);
  bytes[2] ^= 0xff;
  writeFileSync(shard, bytes);
  const r = runCli(['validate', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /checksums\s*│ FAIL/);
  assert.match(r.stdout, /INVALID: 1 version/);
  const json = runCli(['validate', dir, '--json']);
  assert.equal(json.code, 1);
  const check = (JSON.parse(json.stdout) as ValidationReport).versions[0]!.checks.find((c) => c.check === 'checksums')!;
  assert.equal(check.status, 'fail');
  assert.match(check.detail, /variables\.data-00000-of-00001: CRC32C mismatch for variable "a"/);
});

test('a truncated saved_model.pb fails layout; an empty version directory fails layout', async (t) => {
  const base = path.join(tmp(t), 'mnist');
  copy(path.join(fixture, '1'), path.join(base, '1'));
  truncateSync(path.join(base, '1', 'saved_model.pb'), 5000);
  mkdirSync(path.join(base, '7'));
  const r = await validateTarget(base);
  assert.equal(r.ok, false);
  const f = failures(r);
  assert.equal(f.length, 2);
  assert.match(f[0]!, /^mnist\/1 layout: .*saved_model\.pb/);
  assert.match(f[1]!, /^mnist\/7 layout: .*no saved_model\.pb/);
});

test('a model with ops the engine cannot run fails, naming each op and node', { ...needsShared }, async (t) => {
  const r = await validateTarget(sharedModel('tfserving/saved_model_counter/00000123', t));
  assert.equal(r.ok, false);
  const f = failures(r).join('\n');
  assert.match(f, /ops:incr_counter: signature incr_counter uses ops TensorFlow\.js cannot run: AssignAdd \(1 node: incr_counter_op\/AssignAdd\)/);
  assert.match(f, /ops:reset_counter: .*Assign \(1 node: reset_counter_op\/Assign\)/);
  // The signature that can run is still run and passes.
  assert.ok(r.versions[0]!.checks.some((c) => c.check === 'inference:get_counter' && c.status === 'pass'));
});

test('non-finite outputs fail the inference check', async (t) => {
  await initBackend('wasm');
  const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3], name: 'd' })] });
  m.setWeights([tf.fill([3, 2], NaN), tf.zeros([2])]);
  const dir = tmp(t);
  await exportTfjsAsSavedModel(await saveLayersModel(m, path.join(dir, 'tfjs')), path.join(dir, 'nan'));
  const r = await validateTarget(path.join(dir, 'nan'));
  assert.equal(r.ok, false);
  assert.match(failures(r).join('\n'), /inference:serving_default: output d holds 4 non-finite values \(NaN\/Inf\)/);
});

test('--golden with the wrong expected outputs fails and shows the differences', async () => {
  const { readGolden } = await import('../../src/core/validate/golden.js');
  const golden = await readGolden(path.join(repoRoot, 'fixtures', 'mnist-v2.golden.json'));
  const r = await validateTarget(path.join(fixture, '1'), { golden });
  assert.equal(r.ok, false);
  assert.match(failures(r).join('\n'), /golden:serving_default: output probabilities\[\d+,\d+\]: [\d.e-]+, expected [\d.e-]+ \(\|diff\| /);
});

test('--golden requests are checked against the signature before the engine, with serve\'s error text', async (t) => {
  const { readGolden } = await import('../../src/core/validate/golden.js');
  const file = path.join(tmp(t), 'golden.json');
  // image is [-1,28,28]: a [1,2,2] request is refused by the request check (as `serve` refuses it), not by the engine.
  writeFileSync(file, JSON.stringify({ signatures: { serving_default: { instances: [[[0.5, 0.5], [0.5, 0.5]]], outputs: { probabilities: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]] } } } }));
  const r = await validateTarget(path.join(fixture, '2'), { golden: await readGolden(file) });
  assert.equal(r.ok, false);
  const golden = r.versions.flatMap((v) => v.checks).find((c) => c.check === 'golden:serving_default');
  assert.equal(golden?.status, 'fail');
  assert.equal(golden?.detail, 'input "image": shape [1,2,2] is not compatible with the signature\'s [-1,28,28]');
});

test('usage errors exit 2: missing path, unreadable golden file', (t) => {
  const missing = runCli(['validate', path.join(tmp(t), 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or directory/);
  const bad = path.join(tmp(t), 'golden.json');
  writeFileSync(bad, '{"signatures": 3}');
  const g = runCli(['validate', fixture, '--golden', bad]);
  assert.equal(g.code, 2);
  assert.match(g.stderr, /--golden .*expected \{"signatures"/);
});

test('every TensorFlow-written model in ../shared validates green (known engine gaps listed)', { ...needsShared, timeout: 120_000 }, async () => {
  // Known, explained exception: the counter's assign ops (stateful; TensorFlow.js has no variables in graphs).
  const known = [/^saved_model_counter\/123 (ops:|load)/];
  const unexpected: string[] = [];
  let checks = 0;
  for (const group of ['tfserving', 'keras', 'tfjs']) {
    const r = await validateTarget(path.join(sharedModelsDir, group));
    checks += r.summary.passed;
    unexpected.push(...failures(r).filter((f) => !known.some((k) => k.test(f))));
  }
  assert.deepEqual(unexpected, []);
  assert.ok(checks > 50, `${checks} checks passed`);
});

test("half_plus_three's regress signature (DT_FLOAT declared for its tf.Example placeholder) validates green", needsShared, async (t) => {
  const r = await validateTarget(sharedModel('tfserving/saved_model_half_plus_three', t));
  assert.deepEqual(failures(r), []);
  const regress = r.versions[0]!.checks.find((c) => c.check === 'inference:tensorflow/serving/regress');
  assert.equal(regress?.status, 'pass');
  // The generated request is what TF Serving's :regress feeds: a batch of serialized tf.Examples.
  assert.match(regress!.detail, /^inputs string\[2\] → outputs float\[2,1\]; finite/);
});

test('a warmup file is replayed: a good one passes, a corrupt one fails as TF Serving would refuse the load', async (t) => {
  const { writeGeneratedWarmup } = await import('../../src/core/export/warmup.js');
  const dir = copy(path.join(fixture, '2'), path.join(tmp(t), '2'));
  await writeGeneratedWarmup(dir, 'mnist', 4);
  const good = await validateTarget(dir);
  assert.ok(good.ok);
  assert.match(good.versions[0]!.checks.find((c) => c.check === 'warmup')!.detail, /^4 records, CRCs ok, 4 predict requests replayed/);
  const file = path.join(dir, 'assets.extra', 'tf_serving_warmup_requests');
  const bytes = readFileSync(file);
  bytes[bytes.length - 100] ^= 0x55;
  writeFileSync(file, bytes);
  const bad = await validateTarget(dir);
  assert.equal(bad.ok, false);
  assert.match(failures(bad).join('\n'), /warmup: .*record 3/);
});

test('--signature S: warmup records for the signatures not loaded are not replayed, not failed', needsShared, async (t) => {
  const { writeGeneratedWarmup } = await import('../../src/core/export/warmup.js');
  const dir = copy(sharedModel('tfjs/module_with_multiple_signatures', t), path.join(tmp(t), '1'));
  const w = await writeGeneratedWarmup(dir, 'multi', 4);
  assert.deepEqual(w.signatures, ['serving_default', 'timestwo']);
  const r = await validateTarget(dir, { signature: 'timestwo' });
  assert.deepEqual(failures(r), []);
  const warm = r.versions[0]!.checks.find((c) => c.check === 'warmup')!;
  assert.match(warm.detail, /^4 records, CRCs ok, 2 predict requests replayed; 2 records for signatures not loaded here not replayed/);
});

test('CLI: a repository with a good and a broken model exits 1 and reports both; dangling links and temp dirs are skipped', (t) => {
  const repo = tmp(t);
  copy(path.join(fixture, '2'), path.join(repo, 'good', '1'));
  copy(path.join(fixture, '1'), path.join(repo, 'broken', '3'));
  truncateSync(path.join(repo, 'broken', '3', 'saved_model.pb'), 3000);
  symlinkSync(path.join(repo, 'gone'), path.join(repo, 'dangling'));
  // An export in progress (or killed with SIGKILL) leaves a hidden temp dir holding a SavedModel: not a model.
  copy(path.join(fixture, '1'), path.join(repo, '.tfsvc-export-abc123'));
  const r = runCli(['validate', repo, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as ValidationReport;
  assert.deepEqual(doc.versions.map((v) => [v.model, v.version, v.ok]), [['broken', 3, false], ['good', 1, true]]);
  assert.equal(doc.versions[0]!.checks[0]!.check, 'layout');
  assert.equal(doc.versions[0]!.checks[0]!.status, 'fail');
  assert.equal(doc.ok, false);
});

test('a golden file with ragged expected outputs is a usage error (exit 2), not a failed check', (t) => {
  const bad = path.join(tmp(t), 'golden.json');
  writeFileSync(bad, JSON.stringify({ signatures: { serving_default: { inputs: { image: [] }, outputs: { probabilities: [[1, 2], [3]] } } } }));
  const r = runCli(['validate', path.join(fixture, '2'), '--golden', bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--golden .*signature serving_default output probabilities: ragged nested list/);
});

test('CLI: a SavedModel without signatures fails layout (exit 1): TF Serving could not serve it', async (t) => {
  const { GraphBuilder } = await import('../../src/core/export/graph-builder.js');
  const { writeSavedModel } = await import('../../src/core/export/savedmodel-writer.js');
  const g = new GraphBuilder();
  g.placeholder('x', 'DT_FLOAT', [-1]);
  const dir = path.join(tmp(t), '1');
  await writeSavedModel(dir, { graphDef: g.graphDef(), signatures: {} });
  const r = runCli(['validate', dir, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as ValidationReport;
  assert.deepEqual(doc.versions[0]!.checks.map((c) => [c.check, c.status]), [['layout', 'fail']]);
  assert.match(doc.versions[0]!.checks[0]!.detail, /has no signatures/);
});
