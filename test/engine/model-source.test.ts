// loadModel({ source }): a caller that already opened the SavedModel (validate, export --repo) hands it over, and the
// engine neither reads saved_model.pb again nor re-reads checkpoint tensors the caller put in the variable cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import { openModelSource } from '../../src/core/graph/build.js';
import { OBJECT_GRAPH_KEY } from '../../src/core/savedmodel/checkpoint.js';
import type { Checkpoint } from '../../src/core/savedmodel/checkpoint.js';
import { B, reference, syntheticSource } from '../graph/synthetic.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

const X = Float32Array.of(1, 2, 3, 4, -1, 0.5, 2, -3);
const W_KEY = 'w/.ATTRIBUTES/VARIABLE_VALUE';
const B_KEY = 'b/.ATTRIBUTES/VARIABLE_VALUE';

/** The synthetic source with its checkpoint reads recorded. */
function countedSource() {
  const src = syntheticSource();
  const reads: string[] = [];
  const ck = src.checkpoint!;
  src.checkpoint = { ...ck, read: (k: string) => (reads.push(k), ck.read(k)) } as Checkpoint;
  return { src, reads };
}

test('loadModel uses the source it is given: the directory is never read', async () => {
  const { src } = countedSource();
  const m = await loadModel('/no/such/dir', { backend: 'cpu', source: src });
  try {
    const out = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [2, 4], data: X } });
    assert.deepEqual(Array.from(out.y!.data as Float32Array), Array.from(reference(X, 2)));
  } finally {
    m.dispose();
  }
});

test('freezing takes tensors the caller already read from the source cache instead of reading them again', async () => {
  const { src, reads } = countedSource();
  // A value the checkpoint does not hold: the answer shows which one was frozen.
  const ones = new Float32Array(12).fill(1);
  src.variableCache.set(W_KEY, { dtype: 'DT_FLOAT', shape: [4, 3], data: ones });
  const m = await loadModel('/no/such/dir', { backend: 'cpu', source: src });
  try {
    assert.deepEqual(reads, [B_KEY], 'only the tensor not in the cache is read, once');
    const out = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [1, 4], data: X.subarray(0, 4) } });
    const sum = 1 + 2 + 3 + 4;
    assert.deepEqual(Array.from(out.y!.data as Float32Array), Array.from(B, (b) => Math.fround(2 * Math.max(0, Math.fround(sum + b)))));
  } finally {
    m.dispose();
  }
});

test('a checkpoint says which entries it has read and CRC-checked', needsShared, async (t) => {
  const dir = sharedModel('keras/mnist_cnn_keras3/1', t);
  const src = await openModelSource(dir);
  const ck = src.checkpoint!;
  // Opening the source read the TF2 object graph (to map variable handles to keys), and only that.
  assert.deepEqual(ck.keys().filter((k) => ck.verified(k)), [OBJECT_GRAPH_KEY]);
  const key = [...src.variableKeys.values()][0]!;
  ck.read(key);
  assert.equal(ck.verified(key), true);
  assert.equal(path.basename(ck.prefix), 'variables');
});
