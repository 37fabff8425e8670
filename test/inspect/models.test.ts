// Every TensorFlow-written model under ../shared/models inspects, and what tfsvc reports matches TensorFlow's own
// answers: TF Serving's metadata files field for field, and the known variable values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildReport } from '../../src/commands/inspect.js';
import type { InspectReport } from '../../src/core/inspect/report.js';
import { renderReport } from '../../src/core/inspect/render.js';
import { signaturesFromMetadata } from '../../src/core/inspect/remote.js';
import { needsShared, sharedModel, sharedModelsDir } from '../helpers/shared-models.js';

/** Every directory holding a saved_model.pb under ../shared/models, relative to it. */
function allModelDirs(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (!statSync(p).isDirectory()) continue;
      if (readdirSync(p).includes('saved_model.pb')) out.push(path.relative(sharedModelsDir, p));
      else walk(p);
    }
  };
  walk(sharedModelsDir);
  return out.sort();
}

const flags = (extra: Partial<Parameters<typeof buildReport>[1]> = {}) => ({ verify: true, ...extra });

test('every shared model inspects in text and JSON, with CRC-checked variables', needsShared, async (t) => {
  const dirs = allModelDirs();
  assert.ok(dirs.length >= 15, `found ${dirs.length} models`);
  for (const rel of dirs) {
    const report = await buildReport(sharedModel(rel, t), flags({ all: true }));
    assert.ok(Object.keys(report.signatures).length > 0, `${rel}: signatures`);
    const json = JSON.parse(JSON.stringify(report)) as InspectReport;
    assert.equal(json.format, 'tfsvc.inspect/v1');
    const text = renderReport(report, { color: false, all: true });
    for (const key of Object.keys(report.signatures).filter((k) => !k.startsWith('__'))) {
      assert.ok(text.includes(key), `${rel}: text lists signature ${key}`);
    }
    if (report.checkpoint) assert.equal(report.checkpoint.crc, 'ok', rel);
    assert.doesNotMatch(text, /\x1b\[/, 'no ANSI codes when color is off');
  }
});

/** Checks our signatures against a TF Serving GET /metadata answer, field for field. */
function assertMatchesMetadata(report: InspectReport, metadataFile: string) {
  const body = JSON.parse(readFileSync(metadataFile, 'utf8'));
  const defs = body.metadata.signature_def.signature_def as Record<string, any>;
  assert.deepEqual(Object.keys(report.signatures).sort(), Object.keys(defs).sort(), 'same signature keys');
  for (const [key, def] of Object.entries(defs)) {
    const ours = report.signatures[key]!;
    assert.equal(ours.methodName, def.method_name, `${key} method_name`);
    for (const side of ['inputs', 'outputs'] as const) {
      assert.deepEqual(Object.keys(ours[side]).sort(), Object.keys(def[side]).sort(), `${key} ${side} aliases`);
      for (const [alias, info] of Object.entries(def[side] as Record<string, any>)) {
        const spec = ours[side][alias]!;
        assert.equal(spec.name, info.name, `${key}.${side}.${alias} name`);
        assert.equal(spec.dtype, info.dtype, `${key}.${side}.${alias} dtype`);
        const expectShape = info.tensor_shape.unknown_rank ? null : info.tensor_shape.dim.map((d: { size: string }) => Number(d.size));
        assert.deepEqual(spec.shape, expectShape, `${key}.${side}.${alias} shape`);
      }
    }
  }
  // The URL path converts the same document the same way.
  assert.deepEqual(signaturesFromMetadata(body), report.signatures);
}

test('half_plus_two signatures match TF Serving metadata field for field', needsShared, async (t) => {
  const report = await buildReport(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t), flags());
  assertMatchesMetadata(report, sharedModel('tfserving/half_plus_two_model_metadata.json', t));
});

test('half_plus_two_2_versions (version 123) matches its metadata file', needsShared, async (t) => {
  const report = await buildReport(sharedModel('tfserving/saved_model_half_plus_two_2_versions', t), flags({ version: 123 }));
  assert.equal(report.version, 123);
  assert.deepEqual(report.versions, [123, 124]);
  assertMatchesMetadata(report, sharedModel('tfserving/saved_model_half_plus_two_2_versions_metadata.json', t));
});

const valueOf = (r: InspectReport, key: string) => r.checkpoint?.variables.find((v) => v.key === key)?.values;

test('variable values: half_plus_two a=0.5 b=2.0, half_plus_three b=3.0, TF2 half_plus_two too', needsShared, async (t) => {
  const two = await buildReport(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t), flags({ all: true }));
  assert.deepEqual(valueOf(two, 'a'), [0.5]);
  assert.deepEqual(valueOf(two, 'b'), [2]);
  const three = await buildReport(sharedModel('tfserving/saved_model_half_plus_three', t), flags({ all: true }));
  assert.deepEqual(valueOf(three, 'a'), [0.5]);
  assert.deepEqual(valueOf(three, 'b'), [3]);
  const tf2 = await buildReport(sharedModel('tfserving/saved_model_half_plus_two_tf2_cpu/00000123', t), flags({ all: true }));
  assert.deepEqual(valueOf(tf2, 'a/.ATTRIBUTES/VARIABLE_VALUE'), [0.5]);
  assert.deepEqual(valueOf(tf2, 'b/.ATTRIBUTES/VARIABLE_VALUE'), [2]);
});

test('Keras 3 export lists its variables by name with shapes', needsShared, async (t) => {
  const r = await buildReport(sharedModel('keras/mnist_cnn_keras3', t), flags({ all: true }));
  assert.equal(r.version, 1);
  const byName = new Map(r.checkpoint!.variables.map((v) => [v.name, v]));
  assert.deepEqual(byName.get('sequential/conv2d/kernel')?.shape, [3, 3, 1, 16]);
  assert.deepEqual(byName.get('sequential/conv2d/bias')?.shape, [16]);
  assert.deepEqual(byName.get('sequential/dense/kernel')?.shape, [10816, 10]);
  assert.deepEqual(byName.get('sequential/dense/bias')?.shape, [10]);
  assert.equal(byName.get('sequential/dense/kernel')?.bytes, 10816 * 10 * 4);
  const serve = r.signatures.serve!;
  assert.deepEqual(serve.inputs.keras_tensor?.shape, [-1, 28, 28, 1]);
  assert.deepEqual(r.signatures.serving_default?.outputs.output_0?.shape, [-1, 10]);
  assert.ok(r.ops!.some((o) => o.op === 'Conv2D'));
});

test('Keras 2 model.save() lists variables, optimizer slots and the Keras version', needsShared, async (t) => {
  const r = await buildReport(sharedModel('keras/mnist_dense_keras2', t), flags({ all: true }));
  assert.equal(r.version, 2, 'newest version by default');
  assert.equal(r.producer.kerasVersion, '2.4.0');
  const kernel = r.checkpoint!.variables.find((v) => v.name === 'dense/kernel')!;
  assert.deepEqual(kernel.shape, [784, 10]);
  assert.equal(kernel.dtype, 'DT_FLOAT');
  assert.equal(kernel.optimizerSlot, false);
  assert.ok(r.checkpoint!.variables.some((v) => v.optimizerSlot && v.shape.join() === '784,10'));
  assert.deepEqual(r.signatures.serving_default?.inputs.flatten_input?.shape, [-1, 28, 28]);
});

test('int64, uint8 and int32 signatures report their dtypes', needsShared, async (t) => {
  const i64 = await buildReport(sharedModel('tfjs/int64_multiply', t), flags());
  assert.equal(i64.signatures.serving_default?.inputs.x?.dtype, 'DT_INT64');
  const u8 = await buildReport(sharedModel('tfjs/uint8_multiply', t), flags());
  assert.equal(u8.signatures.serving_default?.inputs.x?.dtype, 'DT_UINT8');
  const multi = await buildReport(sharedModel('tfjs/module_with_multiple_signatures', t), flags());
  assert.ok(multi.signatures.timestwo, 'timestwo signature');
  assert.ok(multi.signatures.serving_default);
});

test('--signature NAME keeps one signature; an unknown one is a usage error listing the others', needsShared, async (t) => {
  const dir = sharedModel('tfjs/module_with_multiple_signatures', t);
  const r = await buildReport(dir, flags({ signature: 'timestwo' }));
  assert.deepEqual(Object.keys(r.signatures), ['timestwo']);
  await assert.rejects(buildReport(dir, flags({ signature: 'nope' })), (err: Error & { exitCode?: number }) => {
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /no signature "nope".*serving_default.*timestwo/);
    return true;
  });
});

