// Output-name translation and default attributes (src/core/graph/opdefs.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpRegistry } from '../../src/core/graph/opdefs.js';
import type { NodeDef } from '../../src/core/savedmodel/types.js';

test('built-in layouts translate function-internal names to flat indices', () => {
  const ops = new OpRegistry();
  assert.equal(ops.flatIndex({ name: 'm', op: 'MatMul' }, 'product', 0), 0);
  assert.equal(ops.flatIndex({ name: 'r', op: 'Relu' }, 'activations', 0), 0);
  // ParseExampleV2: 2 sparse features (3 lists of 2) come before dense_values.
  const pe = {
    name: 'p', op: 'ParseExampleV2',
    attr: { num_sparse: { i: 2 }, sparse_types: { list: { type: ['DT_INT64', 'DT_FLOAT'] } }, Tdense: { list: { type: ['DT_FLOAT', 'DT_FLOAT'] } } },
  };
  assert.equal(ops.flatIndex(pe, 'dense_values', 1), 7);
  assert.equal(ops.flatIndex({ name: 'u', op: 'FusedBatchNormV3' }, 'batch_variance', 0), 2);
  assert.equal(ops.flatIndex({ name: 'c', op: 'StatefulPartitionedCall' }, 'output', 3), 3);
});

test("the model's stripped_op_list wins over the built-in table", () => {
  const ops = new OpRegistry([{ name: 'MyOp', outputArg: [{ name: 'a' }, { name: 'bs', numberAttr: 'N' }, { name: 'c' }] }]);
  assert.equal(ops.flatIndex({ name: 'n', op: 'MyOp', attr: { N: { i: 3 } } }, 'c', 0), 4);
});

test('unknown ops and outputs are errors, not silent wrong indices', () => {
  const ops = new OpRegistry();
  assert.throws(() => ops.flatIndex({ name: 'n', op: 'NoSuchOp' }, 'y', 0), /unknown op NoSuchOp \(node n\)/);
  assert.throws(() => ops.flatIndex({ name: 'n', op: 'MatMul' }, 'y', 0), /op MatMul has no output "y" \(node n\)/);
});

test('stripped default attributes come back from the OpDef, without overriding set ones', () => {
  const ops = new OpRegistry([{ name: 'Conv2D', attr: [{ name: 'data_format', defaultValue: { s: Buffer.from('NHWC') } }, { name: 'use_cudnn_on_gpu', defaultValue: { b: true } }] }]);
  const node: NodeDef = { name: 'c', op: 'Conv2D', attr: { use_cudnn_on_gpu: { b: false } } };
  ops.restoreDefaults(node);
  assert.equal(Buffer.from(node.attr!.data_format!.s!).toString(), 'NHWC');
  assert.equal(node.attr!.use_cudnn_on_gpu!.b, false);
  const mm = { name: 'm', op: 'MatMul', attr: {} as Record<string, { b?: boolean }> };
  new OpRegistry().restoreDefaults(mm);
  assert.equal(mm.attr.transpose_a!.b, false);
});
