// Warmup: replay of assets.extra/tf_serving_warmup_requests (PredictionLog TFRecords) and generated requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { warmUp, type WarmupTarget } from '../../src/core/serving/warmup.js';
import { WARMUP_FILE } from '../../src/core/savedmodel/warmup-file.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import { encodeTFRecords } from '../../src/core/savedmodel/tfrecord.js';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { ModelError, RequestError } from '../../src/core/errors.js';
import { tmpBase } from './helpers.js';

const sig = (inputs: SignatureInfo['inputs'], methodName = 'tensorflow/serving/predict'): SignatureInfo => ({ key: 'k', methodName, inputs, outputs: {} });
const signatures: Record<string, SignatureInfo> = {
  serving_default: sig({ x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 2] } }),
  classify: sig({ inputs: { name: 'tf_example:0', dtype: 'DT_STRING', shape: null } }, 'tensorflow/serving/classify'),
  unknown: sig({ z: { name: 'z:0', dtype: 'DT_FLOAT', shape: null } }),
};

function recorder(fail?: (sig: string) => boolean): WarmupTarget & { calls: [string, Record<string, HostTensor>][] } {
  const calls: [string, Record<string, HostTensor>][] = [];
  return {
    signatures,
    calls,
    async run(s, inputs) {
      calls.push([s, inputs]);
      if (fail?.(s)) throw new Error('boom');
      return {};
    },
  };
}

const log = (l: Record<string, unknown>) => encodePlain('tensorflow.serving.PredictionLog', l, 'tensorflow_serving.proto');
function versionWith(records: Uint8Array[] | Buffer): string {
  const dir = tmpBase('tfsvc-warmup-');
  mkdirSync(path.join(dir, 'assets.extra'));
  writeFileSync(path.join(dir, WARMUP_FILE), Array.isArray(records) ? encodeTFRecords(records) : records);
  return dir;
}

test('replays predict and classify records, each iteration with fresh tensors', async (t) => {
  const predict = log({ predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 2 }] }, floatVal: [1, 2] } } } } });
  const classify = log({
    classifyLog: { request: { modelSpec: { signatureName: 'classify' }, input: { exampleList: { examples: [{ features: { feature: { a: { floatList: { value: [3] } } } } }] } } } },
  });
  const dir = versionWith([predict, classify]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = recorder();
  assert.deepEqual(await warmUp(target, dir, { iterations: 2 }), { source: 'file', requests: 4 });
  assert.deepEqual(target.calls.map(([s]) => s), ['serving_default', 'serving_default', 'classify', 'classify']);
  const [, first] = target.calls[0]!;
  assert.deepEqual(first.x!.shape, [1, 2]);
  assert.deepEqual([...(first.x!.data as Float32Array)], [1, 2]);
  assert.notEqual(target.calls[0]![1].x!.data, target.calls[1]![1].x!.data, 'each replay owns its tensors');
  const ex = target.calls[2]![1].inputs!;
  assert.equal(ex.dtype, 'DT_STRING');
  assert.deepEqual(ex.shape, [1]);
});

test('a failing record, a corrupt file or an unknown signature fails the load with a message naming the record', async (t) => {
  const good = log({ predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 2 }] }, floatVal: [1, 2] } } } } });
  const dirs = [versionWith([good]), versionWith(encodeTFRecords([good]).subarray(0, 10)), versionWith([log({ regressLog: { request: { modelSpec: { signatureName: 'nope' } } } })])];
  t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  // An engine error without a status code is UNKNOWN; one with a code keeps it (the request's status, as TF Serving).
  await assert.rejects(warmUp(recorder(() => true), dirs[0]!), (e: unknown) => e instanceof RequestError && e.code === 'UNKNOWN' && /record 0: warmup request failed: boom/.test(e.message));
  const coded = { ...recorder(), run: async () => Promise.reject(new RequestError('RESOURCE_EXHAUSTED', 'out of memory')) };
  await assert.rejects(warmUp(coded, dirs[0]!), (e: unknown) => e instanceof RequestError && e.code === 'RESOURCE_EXHAUSTED' && /record 0: warmup request failed: out of memory$/.test(e.message));
  await assert.rejects(warmUp(recorder(), dirs[1]!), (e: unknown) => e instanceof ModelError && /truncated/.test(e.message));
  await assert.rejects(warmUp(recorder(), dirs[2]!), (e: unknown) => e instanceof RequestError && e.code === 'FAILED_PRECONDITION' && /record 0: signature "nope" not found/.test(e.message));
});

test('without a file: zero requests at each allowed batch size for signatures with known shapes; failures are ignored', async (t) => {
  const dir = tmpBase('tfsvc-warmup-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = recorder();
  assert.deepEqual(await warmUp(target, dir, { batchSizes: [2, 8] }), { source: 'generated', requests: 2 });
  assert.deepEqual(target.calls.map(([s, i]) => [s, i.x!.shape]), [['serving_default', [2, 2]], ['serving_default', [8, 2]]]);
  assert.deepEqual(await warmUp(recorder(() => true), dir), { source: 'none', requests: 0 });
});

test('a record that does not fit its signature, or declares more elements than the cap, fails the load before it runs', async (t) => {
  const wrongShape = log({ predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 3 }] }, floatVal: [1, 2, 3] } } } } });
  const huge = log({ predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 2 ** 40 }, { size: 2 }] }, floatVal: [1] } } } } });
  for (const [record, message] of [
    [wrongShape, /record 0: input "x": shape \[1,3\] is not compatible with the signature's \[-1,2\]/],
    [huge, /record 0, input x: TensorProto of DT_FLOAT has shape \[1099511627776,2\]: 2199023255552 elements, more than the limit of 67108864/],
  ] as const) {
    const dir = versionWith([record]);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const target = recorder();
    await assert.rejects(warmUp(target, dir), (e: unknown) => e instanceof RequestError && e.code === 'INVALID_ARGUMENT' && message.test(e.message));
    assert.equal(target.calls.length, 0, 'nothing reached the engine');
  }
});
