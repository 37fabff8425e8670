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

test('a TF 2.0-style graph whose DepthToSpace has no data_format (and no stripped_op_list) runs as TensorFlow would', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { loadModel } = await import('../../src/core/engine/model.js');
  const { encodePlain } = await import('../../src/core/proto/schema.js');
  // The body of a tf.function, as TF 2.0 exported it: only attributes TF set explicitly; the exporter's
  // stripped_op_list is empty, so nothing in the model says data_format defaults to NHWC.
  const fn = {
    signature: { name: '__inference_upscale_5', inputArg: [{ name: 'x', type: 'DT_FLOAT' }], outputArg: [{ name: 'y', type: 'DT_FLOAT' }] },
    nodeDef: [{ name: 'd2s', op: 'DepthToSpace', input: ['x'], attr: { T: { type: 'DT_FLOAT' }, block_size: { i: 2 } } }],
    ret: { y: 'd2s:output:0' },
  };
  const meta = {
    metaInfoDef: { tags: ['serve'], strippedOpList: { op: [] } },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } },
        {
          name: 'call', op: 'StatefulPartitionedCall', input: ['x'],
          attr: { f: { func: { name: '__inference_upscale_5' } }, Tin: { list: { type: ['DT_FLOAT'] } }, Tout: { list: { type: ['DT_FLOAT'] } } },
        },
      ],
      library: { function: [fn] },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: -1 }, { size: -1 }, { size: 4 }] } } },
        outputs: { y: { name: 'call:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: -1 }, { size: -1 }, { size: 1 }] } } },
      },
    },
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-d2s-'));
  try {
    writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
    const m = await loadModel(dir, { backend: 'cpu' });
    try {
      const out = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [1, 1, 2, 4], data: Float32Array.from({ length: 8 }, (_, i) => i) } });
      // TensorFlow's NHWC order: output[0, 2h+i, 2w+j, 0] = input[0, h, w, 2i+j].
      assert.deepEqual(out.y!.shape, [1, 2, 4, 1]);
      assert.deepEqual([...(out.y!.data as Float32Array)], [0, 1, 4, 5, 2, 3, 6, 7]);
    } finally {
      m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the generated registry table restores defaults for ops a model never describes', () => {
  const node: NodeDef = { name: 'd', op: 'DepthToSpace', attr: { block_size: { i: 2 } } };
  new OpRegistry().restoreDefaults(node);
  assert.equal(Buffer.from(node.attr!.data_format!.s!).toString(), 'NHWC');
  const split: NodeDef = { name: 's', op: 'StringSplitV2', attr: {} };
  new OpRegistry().restoreDefaults(split);
  assert.equal(split.attr!.maxsplit!.i, -1);
});
