// Feeding one output of a node with several outputs: the feed becomes a placeholder standing for that tensor only.
// Consumers of the fed tensor read the placeholder, consumers of the node's other outputs still read the node, and a
// signature output that is the fed tensor echoes the feed (as TensorFlow returns a fed tensor when it is fetched).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/core/engine/model.js';
import { modelSourceFrom } from '../../src/core/graph/build.js';
import { placeFeeds } from '../../src/core/graph/prune.js';
import type { WorkGraph } from '../../src/core/graph/work-graph.js';
import type { MetaGraphDef, NodeDef, TensorInfo } from '../../src/core/savedmodel/types.js';

const f32 = { type: 'DT_FLOAT' };
const vec = (n: number) => ({ dim: [{ size: n }] });
const scalar = {};

/** x[2] → Unpack → u:0, u:1; first = Neg(u:0), second = Neg(u:1), sum = AddV2(u:0, u:1). */
function nodes(): NodeDef[] {
  return [
    { name: 'x', op: 'Placeholder', input: [], attr: { dtype: f32, shape: { shape: vec(2) } } },
    { name: 'u', op: 'Unpack', input: ['x'], attr: { T: f32, num: { i: 2 }, axis: { i: 0 } } },
    { name: 'first', op: 'Neg', input: ['u'], attr: { T: f32 } },
    { name: 'second', op: 'Neg', input: ['u:1'], attr: { T: f32 } },
    { name: 'sum', op: 'AddV2', input: ['u:0', 'u:1'], attr: { T: f32 } },
  ];
}

function workGraph(): WorkGraph {
  const canon = (r: string) => (r.includes(':') ? r : `${r}:0`);
  return { nodes: new Map(nodes().map((n) => [n.name!, { ...n, input: (n.input ?? []).map(canon) }])), values: new Map() };
}

function model(inputs: Record<string, TensorInfo>, outputs: Record<string, TensorInfo>) {
  const meta: MetaGraphDef = {
    metaInfoDef: { tags: ['serve'] },
    graphDef: { node: nodes() },
    signatureDef: { serving_default: { methodName: 'tensorflow/serving/predict', inputs, outputs } },
  };
  const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
  return loadModel('/memory', { backend: 'cpu', source: modelSourceFrom(files, meta) });
}

const t = (name: string, shape: object = scalar): TensorInfo => ({ name, dtype: 'DT_FLOAT', tensorShape: shape });
const scalarIn = (v: number) => ({ dtype: 'DT_FLOAT' as const, shape: [], data: Float32Array.of(v) });
const values = (out: Record<string, { data: unknown }>) =>
  Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));

test('feeding output 0 of a multi-output node leaves its other outputs to the node', () => {
  const g = workGraph();
  const { placeholders } = placeFeeds(g, [{ ref: 'u:0', dtype: 'DT_FLOAT' }]);
  const p = placeholders[0]!;
  assert.notEqual(p, 'u', 'the node itself must stay: u:1 is still used');
  assert.equal(g.nodes.get(p)!.op, 'Placeholder');
  assert.equal(g.nodes.get('u')!.op, 'Unpack');
  assert.deepEqual(g.nodes.get('first')!.input, [`${p}:0`]);
  assert.deepEqual(g.nodes.get('second')!.input, ['u:1']);
  assert.deepEqual(g.nodes.get('sum')!.input, [`${p}:0`, 'u:1']);
});

test('a node fed at output 0 whose other outputs nobody uses becomes the placeholder under its own name', () => {
  const g = workGraph();
  g.nodes.delete('second');
  g.nodes.delete('sum');
  const { placeholders } = placeFeeds(g, [{ ref: 'u:0', dtype: 'DT_FLOAT' }]);
  assert.deepEqual(placeholders, ['u']);
  assert.equal(g.nodes.get('u')!.op, 'Placeholder');
  assert.deepEqual(g.nodes.get('first')!.input, ['u:0']);
});

test('a signature output read from another output of the fed node keeps the node', () => {
  const g = workGraph();
  g.nodes.delete('second');
  g.nodes.delete('sum');
  const { placeholders, outputs } = placeFeeds(g, [{ ref: 'u:0', dtype: 'DT_FLOAT' }], ['u:1', 'first:0']);
  assert.notEqual(placeholders[0], 'u');
  assert.deepEqual(outputs, ['u:1', 'first:0']);
  assert.equal(g.nodes.get('u')!.op, 'Unpack');
});

test('a signature output equal to a fed node:k (k>0) reads the placeholder', () => {
  const g = workGraph();
  const { placeholders, outputs } = placeFeeds(g, [{ ref: 'u:1', dtype: 'DT_FLOAT' }], ['u:1', 'u:0', 'second:0']);
  const p = placeholders[0]!;
  assert.deepEqual(outputs, [`${p}:0`, 'u:0', 'second:0']);
  assert.deepEqual(g.nodes.get('second')!.input, [`${p}:0`]);
  assert.deepEqual(g.nodes.get('first')!.input, ['u:0']);
});

test('the same tensor fed under two aliases gets one placeholder', () => {
  const g = workGraph();
  const { placeholders } = placeFeeds(g, [{ ref: 'u:1', dtype: 'DT_FLOAT' }, { ref: 'u:1', dtype: 'DT_FLOAT' }]);
  assert.equal(placeholders[0], placeholders[1]);
});

test('run: u:0 fed, u:1 still computed from x', async () => {
  const m = await model(
    { x: t('x:0', vec(2)), a: t('u:0') },
    { first: t('first:0'), second: t('second:0'), sum: t('sum:0') },
  );
  try {
    const out = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [2], data: Float32Array.of(3, 5) }, a: scalarIn(10) });
    assert.deepEqual(values(out), { first: [-10], second: [-5], sum: [15] });
  } finally {
    m.dispose();
  }
});

test('run: an output that is the fed u:1 echoes the feed; u:0 still computed', async () => {
  const m = await model(
    { x: t('x:0', vec(2)), b: t('u:1') },
    { echo: t('u:1'), first: t('first:0'), second: t('second:0'), sum: t('sum:0') },
  );
  try {
    const out = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [2], data: Float32Array.of(3, 5) }, b: scalarIn(7) });
    assert.deepEqual(values(out), { echo: [7], first: [-3], second: [-7], sum: [10] });
  } finally {
    m.dispose();
  }
});
