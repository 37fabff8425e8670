// Batch-norm folding and conv fusion on a small TF1-style graph: Conv2D → FusedBatchNormV3 → Relu (and depthwise).
// The unoptimised graph runs tfjs's own FusedBatchNormV3, which is the reference.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { buildExecutableGraph, modelSourceFrom } from '../../src/core/graph/build.js';
import { initBackend } from '../../src/core/engine/backend.js';
import type { MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';

before(async () => {
  await initBackend('cpu');
});

const floats = (shape: number[], f: (i: number) => number): TensorProto => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => f(i));
  return { dtype: 'DT_FLOAT', tensorShape: { dim: shape.map((size) => ({ size })) }, tensorContent: Buffer.from(data.buffer) };
};
const constNode = (name: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor } } });
const t = (type: string) => ({ type });

function meta(depthwise: boolean): MetaGraphDef {
  const c = depthwise ? 2 * 3 : 4;
  const conv: NodeDef = depthwise
    ? { name: 'conv', op: 'DepthwiseConv2dNative', input: ['x', 'filter'], attr: { T: t('DT_FLOAT'), strides: { list: { i: [1, 1, 1, 1] } }, padding: { s: Buffer.from('SAME') } } }
    : { name: 'conv', op: 'Conv2D', input: ['x', 'filter'], attr: { T: t('DT_FLOAT'), strides: { list: { i: [1, 1, 1, 1] } }, padding: { s: Buffer.from('VALID') } } };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
        constNode('filter', floats(depthwise ? [3, 3, 2, 3] : [3, 3, 2, 4], (i) => Math.cos(i) * 0.5)),
        conv,
        constNode('gamma', floats([c], (i) => 0.5 + i * 0.25)),
        constNode('beta', floats([c], (i) => i * 0.1 - 0.2)),
        constNode('mean', floats([c], (i) => Math.sin(i))),
        constNode('var', floats([c], (i) => 0.3 + i)),
        { name: 'bn', op: 'FusedBatchNormV3', input: ['conv', 'gamma', 'beta', 'mean', 'var'], attr: { T: t('DT_FLOAT'), U: t('DT_FLOAT'), epsilon: { f: 0.001 }, is_training: { b: false } } },
        { name: 'relu', op: 'Relu', input: ['bn'], attr: { T: t('DT_FLOAT') } },
      ],
    },
    signatureDef: {
      serving_default: { inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT' } }, outputs: { y: { name: 'relu:0', dtype: 'DT_FLOAT' } } },
    },
  };
}

async function run(depthwise: boolean, optimize: boolean) {
  const m = meta(depthwise);
  const g = await buildExecutableGraph(modelSourceFrom({ dir: '/m', file: '/m/saved_model.pb', savedModel: { metaGraphs: [m] }, assets: [], assetsExtra: [] }, m), 'serving_default', { optimize });
  const model = await loadGraphModel(tf.io.fromMemory(g.artifacts));
  const x = tf.tensor(Float32Array.from({ length: 2 * 6 * 6 * 2 }, (_, i) => Math.sin(i * 0.7)), [2, 6, 6, 2]);
  const y = model.execute({ x }, 'relu') as tf.Tensor;
  const data = y.dataSync() as Float32Array;
  const ops = (g.artifacts.modelTopology as { node: { op: string }[] }).node.map((n) => n.op);
  x.dispose();
  y.dispose();
  model.dispose();
  return { data, ops, stats: g.stats };
}

for (const depthwise of [false, true]) {
  test(`${depthwise ? 'DepthwiseConv2dNative' : 'Conv2D'} + FusedBatchNormV3 + Relu folds into one fused conv with the same outputs`, async () => {
    const plain = await run(depthwise, false);
    const opt = await run(depthwise, true);
    assert.ok(plain.ops.includes('FusedBatchNormV3'));
    assert.equal(opt.stats.batchNormsFolded, 1);
    assert.deepEqual(opt.ops.filter((o) => o !== 'Const' && o !== 'Placeholder'), [depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D']);
    assert.equal(opt.data.length, plain.data.length);
    let worst = 0;
    for (let i = 0; i < plain.data.length; i++) worst = Math.max(worst, Math.abs(plain.data[i]! - opt.data[i]!));
    assert.ok(worst < 1e-5, `max difference ${worst}`);
    assert.ok(plain.data.some((v) => v > 0) && plain.data.some((v) => v === 0), 'the test input exercises both sides of the Relu');
  });
}
