// int64 inputs beyond int32 (ids, hashes): passed through exactly where the graph only moves them, refused (never
// answered wrongly) where it computes on them; AsString of such values is computed on the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOnce } from '../../src/core/run/run-once.js';
import { asStringValues, planInt64, type GraphNode } from '../../src/core/engine/int64-exact.js';
import { writeInt64Model } from './int64-model.js';

const BIG = ['9007199254740993', '-8844007240823776001', '42'];

test('ids beyond 2^31 and 2^53 come back exactly through Identity, GatherV2 and ConcatV2; Size still works', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-i64-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeInt64Model(dir);
  const r = await runOnce({ model: dir, body: `{"inputs": {"ids": [${BIG.join(', ')}]}}` });
  // Compare the JSON text: JSON.parse would round the big numbers.
  const compact = r.response.replace(/\s+/g, '');
  assert.match(compact, new RegExp(`"same":\\[${BIG.join(',')}\\]`));
  assert.match(compact, /"picked":\[42,9007199254740993\]/);
  assert.match(compact, new RegExp(`"twice":\\[${[...BIG, ...BIG].join(',')}\\]`));
  assert.match(compact, /"n":3/);
  // Values inside int32 take the ordinary path (and arithmetic works on them).
  const small = await runOnce({ model: dir, signature: 'plus_one', body: '{"inputs": {"ids": [5, 2147483646]}}' });
  assert.deepEqual(JSON.parse(small.response), { outputs: [6, 2147483647] });
  // Computing on a big value, or mixing it with a constant, is refused naming the node.
  await assert.rejects(runOnce({ model: dir, signature: 'plus_one', body: '{"inputs": {"ids": [5, 3000000000]}}' }), (e: Error) => {
    assert.match(e.message, /^input ids: value 3000000000 is beyond the 32-bit integers .* node "plus" \(AddV2\) computes on it/);
    return true;
  });
  await assert.rejects(runOnce({ model: dir, signature: 'mixed', body: '{"inputs": {"ids": [3000000000]}}' }), /node "mix" \(ConcatV2\) mixes it with other values/);
});

test('AsString of big ids is computed from the original values (width and fill honoured)', () => {
  const nodes: GraphNode[] = [
    { name: 'ids', op: 'Placeholder' },
    { name: 'r', op: 'Reshape', input: ['ids', 'shape'] },
    { name: 's', op: 'AsString', input: ['r'], attr: { width: { i: 22 }, fill: { s: Buffer.from('0').toString('base64') } } },
    { name: 'h', op: 'StringToHashBucketFast', input: ['s'] },
  ];
  const value = { dtype: 'DT_INT64', shape: [2], data: BigInt64Array.from([9007199254740993n, -5n]) };
  const plan = planInt64(nodes, [{ alias: 'ids', node: 'ids', value }]);
  assert.deepEqual(Array.from(plan.feeds.ids!), [0, 1]);
  assert.deepEqual(plan.asString.map((n) => n.name), ['s']);
  assert.deepEqual([...plan.tainted].sort(), ['ids', 'r']);
  const strings = asStringValues(plan, plan.asString[0]!, [1, 0]).map((b) => Buffer.from(b).toString());
  assert.deepEqual(strings, ['-000000000000000000005', '0000009007199254740993']);
  // Used as a shape or index, a big value cannot be moved: refused.
  assert.throws(() => planInt64([...nodes, { name: 'bad', op: 'Reshape', input: ['x', 'ids'] }], [{ alias: 'ids', node: 'ids', value }]), /uses it as a shape or index/);
});
