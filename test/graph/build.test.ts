// The SavedModel → tfjs graph pipeline on an in-memory TF2-style model (always runs) and on TensorFlow-written models.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { buildExecutableGraph, openModelSource } from '../../src/core/graph/build.js';
import { initBackend } from '../../src/core/engine/backend.js';
import { registerCustomOps } from '../../src/core/engine/custom-ops.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { reference, syntheticMeta, syntheticSource } from './synthetic.js';

type Topology = { node: { name: string; op: string; input?: string[]; attr?: Record<string, { list?: { s?: string[] } }> }[] };
const topo = (g: { artifacts: { modelTopology?: unknown } }) => g.artifacts.modelTopology as Topology;

before(async () => {
  await initBackend('cpu');
  registerCustomOps();
});

async function runGraph(g: Awaited<ReturnType<typeof buildExecutableGraph>>, x: Float32Array, rows: number): Promise<Float32Array> {
  const model = await loadGraphModel(tf.io.fromMemory(g.artifacts));
  const t = tf.tensor(x, [rows, 4]);
  const out = model.execute({ [g.inputs.x!.node]: t }, g.outputs.y!.tensor) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  t.dispose();
  out.dispose();
  model.dispose();
  return data;
}

function assertClose(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `element ${i}: ${a[i]} vs ${b[i]}`);
}

describe('buildExecutableGraph on an in-memory TF2 model', () => {
  const x = Float32Array.from({ length: 5 * 4 }, (_, i) => Math.sin(i) * 2);

  test('inlines nested calls, freezes captured variables, and computes the reference', async () => {
    const g = await buildExecutableGraph(syntheticSource(), 'serving_default', { optimize: false });
    const ops = topo(g).node.map((n) => n.op);
    assert.ok(!ops.includes('StatefulPartitionedCall'), `calls left: ${ops}`);
    assert.ok(!ops.includes('VarHandleOp') && !ops.includes('SaveV2'), `stateful ops left: ${ops}`);
    assert.equal(g.stats.variablesFrozen, 2);
    assert.equal(g.stats.callsInlined, 2);
    assertClose(await runGraph(g, x, 5), reference(x, 5));
  });

  test('optimised graph: identities gone, MatMul+BiasAdd+Relu fused, same outputs', async () => {
    const plain = await buildExecutableGraph(syntheticSource(), 'serving_default', { optimize: false });
    const g = await buildExecutableGraph(syntheticSource(), 'serving_default');
    const nodes = topo(g).node;
    const fused = nodes.find((n) => n.op === '_FusedMatMul');
    assert.ok(fused, `no _FusedMatMul in ${nodes.map((n) => n.op)}`);
    const fusedOps = fused.attr!.fused_ops!.list!.s!.map((s) => Buffer.from(s, 'base64').toString());
    assert.deepEqual(fusedOps, ['BiasAdd', 'Relu']);
    assert.ok(!nodes.some((n) => n.op === 'ReadVariableOp' || n.op === 'BiasAdd' || n.op === 'Relu'));
    assert.ok(nodes.length < topo(plain).node.length);
    assertClose(await runGraph(g, x, 5), await runGraph(plain, x, 5));
    assertClose(await runGraph(g, x, 5), reference(x, 5));
  });

  test('each optimisation alone keeps the outputs', async () => {
    const want = reference(x, 5);
    for (const optimize of [{ identities: true, fold: false, fuse: false }, { identities: false, fold: true, fuse: false }, { identities: false, fold: false, fuse: true }]) {
      const g = await buildExecutableGraph(syntheticSource(), 'serving_default', { optimize });
      assertClose(await runGraph(g, x, 5), want);
    }
  });

  test('Add of a per-channel constant fuses like BiasAdd; Add of anything else does not', async () => {
    const meta = syntheticMeta();
    const asAdd = (m: typeof meta) => {
      const nodes = m.graphDef!.library!.function![0]!.nodeDef!;
      nodes.find((n) => n.name === 'bias')!.op = 'AddV2';
      nodes.find((n) => n.name === 'relu')!.input = ['bias:z:0'];
      return nodes;
    };
    asAdd(meta);
    const g = await buildExecutableGraph(syntheticSource(meta), 'serving_default');
    assert.equal(g.stats.fused, 1);
    assertClose(await runGraph(g, x, 5), reference(x, 5));
    // x + x is not a bias: nothing to fuse, and the graph still computes.
    const other = syntheticMeta();
    asAdd(other).find((n) => n.name === 'bias')!.input = ['mm:product:0', 'mm:product:0'];
    const h = await buildExecutableGraph(syntheticSource(other), 'serving_default');
    assert.equal(h.stats.fused, 0);
  });

  test('a constant output folds to a Const, and the unused input can still be fed', async () => {
    const meta = syntheticMeta();
    const body = meta.graphDef!.library!.function![0]!.nodeDef!;
    body.find((n) => n.name === 'scaled')!.input = ['two:output:0', 'two:output:0'];
    for (const optimize of [true, false]) {
      const g = await buildExecutableGraph(syntheticSource(meta), 'serving_default', { optimize });
      if (optimize) assert.deepEqual(topo(g).node.map((n) => n.op).sort(), ['Const', 'Identity', 'Placeholder']);
      assert.deepEqual(Array.from(await runGraph(g, x, 5)), [4]);
    }
  });

  test('an unknown signature is a usage error listing the real ones', async () => {
    await assert.rejects(buildExecutableGraph(syntheticSource(), 'nope'), /no signature "nope" \(signatures: serving_default\)/);
  });

  test('ops tfjs lacks are reported with their node names, or refused', async () => {
    const meta = syntheticMeta();
    meta.graphDef!.library!.function![0]!.nodeDef!.find((n) => n.name === 'relu')!.op = 'Mish';
    await assert.rejects(buildExecutableGraph(syntheticSource(meta), 'serving_default'), /ops TensorFlow\.js cannot run: Mish \(1 node: StatefulPartitionedCall\/inner\/relu\)/);
    const g = await buildExecutableGraph(syntheticSource(meta), 'serving_default', { allowUnsupported: true });
    assert.deepEqual(g.unsupported, [{ op: 'Mish', nodes: ['StatefulPartitionedCall/inner/relu'] }]);
  });

  test('a variable missing from the checkpoint fails with its name', async () => {
    const meta = syntheticMeta();
    meta.objectGraphDef!.concreteFunctions = {};
    meta.graphDef!.node![0]!.name = 'wv';
    meta.graphDef!.node![3]!.input = ['serving_default_x', 'wv', 'b'];
    await assert.rejects(buildExecutableGraph(syntheticSource(meta), 'serving_default'), /variable wv \(shared_name w_1\) has no value in the checkpoint/);
  });
});

describe('buildExecutableGraph on TensorFlow-written SavedModels', needsShared, () => {
  test('TF1 half_plus_two: VariableV2 frozen, x:0 (not a placeholder) fed as one', async (t) => {
    const src = await openModelSource(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t));
    const g = await buildExecutableGraph(src, 'serving_default');
    assert.equal(g.inputs.x!.node, 'x');
    const nodes = topo(g).node;
    assert.equal(nodes.find((n) => n.name === 'x')!.op, 'Placeholder');
    assert.ok(!nodes.some((n) => n.op.startsWith('Variable') || n.op === 'ParseExample'), 'ParseExample feeding x is pruned');
    assert.deepEqual(g.artifacts.weightSpecs!.map((w) => w.name).sort(), ['a', 'b']);
  });

  test('Keras 3 CNN: the bound variables (not the _all_variables duplicates) are frozen; conv and dense fused', async (t) => {
    const src = await openModelSource(sharedModel('keras/mnist_cnn_keras3/1', t));
    const keys = [...src.variableKeys.values()].sort();
    assert.equal(keys.length, 4);
    for (const k of keys) assert.ok(src.checkpoint!.has(k), k);
    const g = await buildExecutableGraph(src, 'serving_default');
    const ops = topo(g).node.map((n) => n.op);
    assert.ok(ops.includes('_FusedConv2D') && ops.includes('_FusedMatMul'), ops.join(','));
    assert.equal(g.stats.fused, 2);
  });

  test('stateful counter: AssignAdd is reported as unsupported, get_counter builds', async (t) => {
    const src = await openModelSource(sharedModel('tfserving/saved_model_counter/00000123', t));
    const g = await buildExecutableGraph(src, 'incr_counter', { allowUnsupported: true });
    assert.deepEqual(g.unsupported.map((u) => u.op), ['AssignAdd']);
    const get = await buildExecutableGraph(src, 'get_counter');
    assert.deepEqual(get.unsupported, []);
  });
});
