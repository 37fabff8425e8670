// Control flow on tfjs: TF2 While/If with their functions kept in the tfjs library (variables frozen, nested calls
// inlined, names flattened inside them) and TF1 loops and conds passed through, on hand-written SavedModels
// (control-flow-models.ts). Answers are checked exactly on the wasm and cpu backends.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadModel } from '../../src/core/engine/model.js';
import { initBackend } from '../../src/core/engine/backend.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { buildExecutableGraph, modelSourceFrom } from '../../src/core/graph/build.js';
import { encodePlain, decodePlain } from '../../src/core/proto/schema.js';
import type { MetaGraphDef, NodeDef, SavedModel } from '../../src/core/savedmodel/types.js';
import { fibonacciMeta, ifMeta, ifVariableMeta, tensorListMeta, tf1CondMeta, tf1WhileMeta, variableCheckpoint, whileSumMeta, whileVariableMeta } from './control-flow-models.js';
import { removeModelDirs, writeModelDir } from '../helpers/model-dirs.js';

const t = (type: string) => ({ type });
const BACKENDS = ['wasm', 'cpu'] as const;

function savedModel(meta: MetaGraphDef): MetaGraphDef {
  // Round trip through the protobuf encoding, so the test sees what the reader gives for a real file.
  const bytes = encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] });
  return (decodePlain('tensorflow.SavedModel', bytes) as SavedModel).metaGraphs![0]!;
}

after(removeModelDirs);
const writeModel = (meta: MetaGraphDef) => writeModelDir(meta, 'tfsvc-control-flow-');

const scalar = (dtype: string, v: number): HostTensor => ({ dtype, shape: [], data: dtype === 'DT_FLOAT' ? Float32Array.of(v) : Int32Array.of(v) });
const sumTo = (n: number) => (n === 0 ? 0 : (n * (n - 1)) / 2);

describe('control flow runs on tfjs: TF2 While/If with their functions in the library, TF1 ops as they are', () => {
  test('the artifacts carry the While functions; body names are flat, nested calls inlined, no op refused', async () => {
    const meta = savedModel(whileSumMeta());
    const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
    const g = await buildExecutableGraph(modelSourceFrom(files, meta), 'serving_default');
    assert.deepEqual(g.unsupported, []);
    assert.equal(g.stats.functions, 2);
    const topo = g.artifacts.modelTopology as { node: NodeDef[]; library: { function: { signature: { name: string }; nodeDef: NodeDef[]; ret: Record<string, string> }[] } };
    const loop = topo.node.find((n) => n.op === 'StatelessWhile')!;
    assert.ok(loop, 'the While stays in the main graph');
    const lib = Object.fromEntries(topo.library.function.map((f) => [f.signature.name, f]));
    assert.deepEqual(Object.keys(lib).sort(), ['__inference_while_body_16', '__inference_while_cond_15']);
    const body = lib.__inference_while_body_16!;
    assert.ok(!body.nodeDef.some((n) => n.op === 'PartitionedCall'), 'the nested call is inlined into the body');
    for (const n of body.nodeDef) {
      assert.ok(n.name!.startsWith('__inference_while_body_16/'), `body node ${n.name} is named under its function`);
      for (const r of n.input ?? []) assert.ok(!r.startsWith('^') && r.split(':').length <= 2, `flat input ${r}`);
    }
    // The pass-through of the captured n returns the argument itself.
    assert.equal(body.ret.less_n, '__inference_while_body_16/less_n');
    // Every Const of every function is a weight under its own name.
    const weights = new Set(g.artifacts.weightSpecs!.map((w) => w.name));
    for (const f of topo.library.function) for (const n of f.nodeDef) if (n.op === 'Const') assert.ok(weights.has(n.name!), n.name);
  });

  for (const backend of BACKENDS) {
    test(`StatelessWhile: sum of 0..n-1 with n an input (${backend})`, async () => {
      const m = await loadModel(writeModel(whileSumMeta()), { backend, signatures: ['serving_default'] });
      try {
        for (const n of [0, 1, 5, 100]) {
          const out = await m.run('serving_default', { n: scalar('DT_INT32', n) });
          assert.deepEqual([...out.sum!.data], [sumTo(n)], `n=${n}`);
          assert.deepEqual(out.sum!.shape, []);
        }
      } finally {
        m.dispose();
      }
    });

    test(`StatelessIf: x*2 when pred, x+100 otherwise (${backend})`, async () => {
      const m = await loadModel(writeModel(ifMeta()), { backend, signatures: ['serving_default'] });
      try {
        const x: HostTensor = { dtype: 'DT_FLOAT', shape: [3], data: Float32Array.of(1, 2.5, -3) };
        const bool = (b: boolean): HostTensor => ({ dtype: 'DT_BOOL', shape: [], data: Uint8Array.of(b ? 1 : 0) });
        const yes = await m.run('serving_default', { x, pred: bool(true) });
        assert.deepEqual([...yes.y!.data], [2, 5, -6]);
        const no = await m.run('serving_default', { x, pred: bool(false) });
        assert.deepEqual([...no.y!.data], [101, 102.5, 97]);
      } finally {
        m.dispose();
      }
    });

    test(`While reading a frozen variable captured through the function: x + n*v (${backend})`, async () => {
      await initBackend(backend);
      const meta = savedModel(whileVariableMeta());
      const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
      const g = await buildExecutableGraph(modelSourceFrom(files, meta, variableCheckpoint()), 'serving_default');
      assert.deepEqual(g.unsupported, []);
      assert.equal(g.stats.variablesFrozen, 1);
      // The body reads the variable from a Const with the variable's own weight name: one copy of the value.
      const topo = g.artifacts.modelTopology as { library: { function: { signature: { name: string; inputArg: { type: string }[] }; nodeDef: NodeDef[] }[] } };
      const body = topo.library.function.find((f) => f.signature.name === '__inference_while_body_51')!;
      const weightName = g.artifacts.weightSpecs!.filter((w) => w.shape.length === 1 && w.shape[0] === 3 && w.dtype === 'float32').map((w) => w.name);
      assert.equal(weightName.length, 1, 'the variable is stored once');
      assert.ok(body.nodeDef.some((n) => n.op === 'Const' && n.name === weightName[0]), 'the body reads the frozen variable as a constant');
      assert.ok(!body.nodeDef.some((n) => n.op === 'ReadVariableOp'));
      assert.equal(body.signature.inputArg[5]!.type, 'DT_FLOAT', 'the resource argument now carries the value');

      const model = await loadGraphModel(tf.io.fromMemory(g.artifacts));
      try {
        for (const [n, want] of [[0, [1, 2, 3]], [1, [1.5, 1, 5]], [4, [3, -2, 11]]] as const) {
          const feeds = { [g.inputs.x!.node]: tf.tensor1d([1, 2, 3]), [g.inputs.n!.node]: tf.scalar(n, 'int32') };
          const y = (await model.executeAsync(feeds, g.outputs.y!.tensor)) as tf.Tensor;
          assert.deepEqual([...(await y.data())], want, `n=${n}`);
          y.dispose();
          Object.values(feeds).forEach((f) => f.dispose());
        }
      } finally {
        model.dispose();
      }
    });

    test(`While returning two outputs of one node, and an If branch returning its argument: Fibonacci (${backend})`, async () => {
      const m = await loadModel(writeModel(fibonacciMeta()), { backend, signatures: ['serving_default'] });
      const bool = (b: boolean): HostTensor => ({ dtype: 'DT_BOOL', shape: [], data: Uint8Array.of(b ? 1 : 0) });
      try {
        for (const [n, fib, next] of [[0, 0, 1], [1, 1, 1], [10, 55, 89], [20, 6765, 10946]] as const) {
          const out = await m.run('serving_default', { n: scalar('DT_INT32', n), negative: bool(false) });
          assert.deepEqual([[...out.fib!.data], [...out.next!.data]], [[fib], [next]], `n=${n}`);
          const neg = await m.run('serving_default', { n: scalar('DT_INT32', n), negative: bool(true) });
          assert.deepEqual([...neg.fib!.data], [fib === 0 ? 0 : -fib], `n=${n}, negated`);
        }
      } finally {
        m.dispose();
      }
    });

    test(`If reading a frozen variable in one branch (${backend})`, async () => {
      await initBackend(backend);
      const meta = savedModel(ifVariableMeta());
      const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
      const g = await buildExecutableGraph(modelSourceFrom(files, meta, variableCheckpoint()), 'serving_default');
      const topo = g.artifacts.modelTopology as { node: NodeDef[] };
      assert.deepEqual(topo.node.find((n) => n.op === 'If')!.attr!.Tin, { list: { type: ['DT_FLOAT', 'DT_FLOAT'] } });
      const model = await loadGraphModel(tf.io.fromMemory(g.artifacts));
      try {
        for (const [pred, want] of [[true, [1, -2, 6]], [false, [1, 1, 2]]] as const) {
          const feeds = { [g.inputs.x!.node]: tf.tensor1d([2, 2, 3]), [g.inputs.pred!.node]: tf.scalar(pred, 'bool') };
          const y = (await model.executeAsync(feeds, g.outputs.y!.tensor)) as tf.Tensor;
          assert.deepEqual([...(await y.data())], want, `pred=${pred}`);
          y.dispose();
          Object.values(feeds).forEach((f) => f.dispose());
        }
      } finally {
        model.dispose();
      }
    });

    test(`While filling a TensorList, as Keras RNN layers collect outputs: [1, x, x², x³] (${backend})`, async () => {
      const m = await loadModel(writeModel(tensorListMeta()), { backend, signatures: ['serving_default'] });
      try {
        for (const [x, want] of [[2, [1, 2, 4, 8]], [-0.5, [1, -0.5, 0.25, -0.125]]] as const) {
          const out = await m.run('serving_default', { x: scalar('DT_FLOAT', x) });
          assert.deepEqual([...out.powers!.data], want, `x=${x}`);
          assert.deepEqual(out.powers!.shape, [4]);
        }
      } finally {
        m.dispose();
      }
    });

    test(`TF1 while loop (Enter/Merge/Switch/NextIteration/Exit) passes through (${backend})`, async () => {
      const m = await loadModel(writeModel(tf1WhileMeta()), { backend, signatures: ['serving_default'] });
      try {
        for (const n of [0, 3, 10]) {
          const out = await m.run('serving_default', { n: scalar('DT_INT32', n) });
          assert.deepEqual([...out.sum!.data], [sumTo(n)], `n=${n}`);
        }
      } finally {
        m.dispose();
      }
    });

    test(`TF1 cond (Switch/Merge) passes through (${backend})`, async () => {
      const m = await loadModel(writeModel(tf1CondMeta()), { backend, signatures: ['serving_default'] });
      const bool = (b: boolean): HostTensor => ({ dtype: 'DT_BOOL', shape: [], data: Uint8Array.of(b ? 1 : 0) });
      const x: HostTensor = { dtype: 'DT_FLOAT', shape: [2], data: Float32Array.of(1.5, -4) };
      try {
        assert.deepEqual([...(await m.run('serving_default', { x, pred: bool(true) })).y!.data], [3, -8]);
        assert.deepEqual([...(await m.run('serving_default', { x, pred: bool(false) })).y!.data], [101.5, 96]);
      } finally {
        m.dispose();
      }
    });
  }

  test('a body op tfjs lacks is named like any missing op, with its function', async () => {
    const meta = whileVariableMeta();
    const body = meta.graphDef!.library!.function!.find((f) => f.signature!.name === '__inference_while_body_51')!;
    body.nodeDef!.push({ name: 'odd', op: 'Lgamma', input: ['add:z:0'], attr: { T: t('DT_FLOAT') } });
    body.nodeDef!.find((n) => n.name === 'Identity_3')!.input = ['odd:y:0'];
    const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
    const src = modelSourceFrom(files, meta, variableCheckpoint());
    const g = await buildExecutableGraph(src, 'serving_default', { allowUnsupported: true });
    assert.deepEqual(g.unsupported, [{ op: 'Lgamma', nodes: ['__inference_while_body_51/odd'] }]);
    await assert.rejects(buildExecutableGraph(src, 'serving_default'), /uses ops TensorFlow\.js cannot run: Lgamma \(1 node: __inference_while_body_51\/odd\)/);
  });

  test('a body that writes the variable it reads is refused (freezing it would compute with a stale value)', async () => {
    const meta = whileVariableMeta();
    const body = meta.graphDef!.library!.function!.find((f) => f.signature!.name === '__inference_while_body_51')!;
    // v.assign_add(x) each iteration, ordered before the next read by a control edge only, as TF2 exports it.
    body.nodeDef!.push({ name: 'AssignAddVariableOp', op: 'AssignAddVariableOp', input: ['readvariableop_resource', 'placeholder_1', '^ReadVariableOp'], attr: { dtype: t('DT_FLOAT') } });
    body.nodeDef!.find((n) => n.name === 'Identity_3')!.input = ['add:z:0', '^AssignAddVariableOp'];
    const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
    await assert.rejects(
      buildExecutableGraph(modelSourceFrom(files, meta, variableCheckpoint()), 'serving_default'),
      /uses ops TensorFlow\.js cannot run: AssignAddVariableOp \(1 node: __inference_while_body_51\/AssignAddVariableOp\)/,
    );
  });

  test('a function reading a resource argument that is no frozen variable is refused with a clear error', async () => {
    const meta = whileVariableMeta();
    // The signature feeds the resource from a placeholder instead of the variable.
    meta.graphDef!.node!.push({ name: 'other_resource', op: 'Placeholder', attr: { dtype: t('DT_RESOURCE') } });
    meta.graphDef!.node!.find((n) => n.name === 'StatefulPartitionedCall')!.input![2] = 'other_resource';
    const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
    await assert.rejects(
      buildExecutableGraph(modelSourceFrom(files, meta, variableCheckpoint()), 'serving_default'),
      /function __inference_while_body_51 reads resource argument readvariableop_resource, which is not a variable tfsvc can freeze/,
    );
  });
});
