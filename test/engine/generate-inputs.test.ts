// The one input generator every command uses: shapes from the signature, seeded values, zeros for serve's warmup,
// tf.Examples for classify/regress inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeExample } from '../../src/core/engine/example.js';
import { generateInputs } from '../../src/core/engine/generate-inputs.js';
import { UsageError } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/prng.js';

test("'guess' shapes: --batch rows for an open batch dim, --unknown-dim elsewhere, a fixed first dim kept with a note", () => {
  const inputs = { x: { dtype: 'DT_FLOAT', shape: [-1, -1, 3] }, k: { dtype: 'DT_INT64', shape: [2, 4] }, s: { dtype: 'DT_INT32', shape: [] }, u: { dtype: 'DT_BOOL', shape: null } };
  const g = generateInputs(inputs, { batch: 5, unknownDim: 7, values: seededRandom(3) });
  assert.deepEqual(Object.fromEntries(Object.entries(g.inputs).map(([k, t]) => [k, t.shape])), { x: [5, 7, 3], k: [2, 4], s: [], u: [5] });
  assert.ok(g.inputs.k!.data instanceof BigInt64Array);
  assert.match(g.notes.join('\n'), /input k has a fixed first dimension 2; sending 2 rows, not --batch 5/);
  const again = generateInputs(inputs, { batch: 5, unknownDim: 7, values: seededRandom(3) });
  assert.deepEqual(again.inputs, g.inputs, 'same seed, same data');
  assert.notDeepEqual(generateInputs(inputs, { batch: 5, unknownDim: 7, values: seededRandom(4) }).inputs, g.inputs);
  assert.throws(() => generateInputs({ r: { dtype: 'DT_RESOURCE', shape: [] } }, { batch: 1, values: seededRandom(1) }), UsageError);
});

test("zeros with 'batched' shapes (serve's warmup): exactly `batch` rows, and no guessing of shapes or strings", () => {
  const zeros = (inputs: Parameters<typeof generateInputs>[0], batch = 8) => generateInputs(inputs, { batch, values: 'zeros', shapes: 'batched' }).inputs;
  const t = zeros({ x: { dtype: 'DT_FLOAT', shape: [4, 2] } });
  assert.deepEqual(t.x!.shape, [8, 2], 'the first dim is the batch size being warmed');
  assert.ok([...(t.x!.data as Float32Array)].every((v) => v === 0));
  for (const shape of [null, [], [-1, -1]]) assert.throws(() => zeros({ x: { dtype: 'DT_FLOAT', shape } }), UsageError);
  assert.throws(() => zeros({ s: { dtype: 'DT_STRING', shape: [-1] } }), UsageError);
});

test('classify/regress inputs get serialized tf.Examples with every feature, also behind a string placeholder', () => {
  const features = [{ name: 'x', kind: 'float' as const, length: 2 }, { name: 'n', kind: 'int64' as const, length: 1 }];
  const inputs = { inputs: { name: 'tf_example:0', dtype: 'DT_FLOAT', shape: [-1] } };
  const examples = { method: 'tensorflow/serving/regress', features, stringPlaceholders: new Set(['tf_example']) };
  const g = generateInputs(inputs, { batch: 3, values: seededRandom(1), examples });
  assert.equal(g.inputs.inputs!.dtype, 'DT_STRING');
  assert.deepEqual(g.inputs.inputs!.shape, [3]);
  const ex = decodeExample((g.inputs.inputs!.data as Uint8Array[])[0]!);
  assert.equal(ex.get('x')!.kind, 'float');
  assert.equal(ex.get('x')!.values.length, 2);
  assert.equal(ex.get('n')!.kind, 'int64');
  // A predict signature's float input stays a float tensor.
  const predict = generateInputs(inputs, { batch: 3, values: seededRandom(1), examples: { ...examples, method: 'tensorflow/serving/predict' } });
  assert.equal(predict.inputs.inputs!.dtype, 'DT_FLOAT');
});
