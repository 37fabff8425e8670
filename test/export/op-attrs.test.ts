// Every node tfsvc writes into a SavedModel must satisfy TensorFlow's op registry, not just our engine (which accepts
// nodes with missing attributes): TF's loader rejects a NodeDef that lacks an attr without a default ("NodeDef missing
// attr") or sets one the OpDef does not have ("NodeDef mentions attr ... not in Op"). The table below is the OpDef of
// each op the writers emit, from TensorFlow's public op registrations
// (tensorflow/core/ops/{array,math,nn}_ops.cc; their history in tensorflow/core/ops/compat/ops_history_v2/*.pbtxt) as of
// TF 2.4, the op set graph-builder.ts targets. Where ../shared has SavedModels written by TensorFlow, the table is also
// checked against the OpDefs TensorFlow itself recorded in their stripped_op_list.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/core/engine/backend.js';
import { loadModel } from '../../src/core/engine/model.js';
import { exportSavedModelAsTfjs } from '../../src/core/export/savedmodel-to-tfjs.js';
import { exportTfjsAsSavedModel } from '../../src/core/export/tfjs-to-savedmodel.js';
import { GRAPH_VERSIONS } from '../../src/core/export/graph-builder.js';
import { readSavedModel, selectMetaGraph } from '../../src/core/savedmodel/reader.js';
import type { AttrValue, MetaGraphDef } from '../../src/core/savedmodel/types.js';
import { findDirsWith, needsShared, repoRoot, sharedModelsDir } from '../helpers/shared-models.js';
import { maxAbsDiff, saveLayersModel, seededFloats } from './helpers.js';

/** An attr's kind as OpDef spells it; a trailing `=` marks an attr with a default value (optional in a NodeDef). */
type AttrKind = 'type' | 'type=' | 'bool=' | 'int' | 'float=' | 'string' | 'string=' | 'list(int)' | 'list(int)=' | 'tensor' | 'shape=';

interface OpSpec {
  attrs: Record<string, AttrKind>;
  /** Data inputs: a count, or the int attr that gives it (+ extra fixed inputs). */
  inputs: number | { attr: string; plus: number };
}

const unaryT: OpSpec = { attrs: { T: 'type' }, inputs: 1 };
const binaryT: OpSpec = { attrs: { T: 'type' }, inputs: 2 };
const conv: Record<string, AttrKind> = { T: 'type', strides: 'list(int)', padding: 'string', explicit_paddings: 'list(int)=', data_format: 'string=', dilations: 'list(int)=' };
const reduce: OpSpec = { attrs: { T: 'type', Tidx: 'type=', keep_dims: 'bool=' }, inputs: 2 };

const OP_DEFS: Record<string, OpSpec> = {
  Placeholder: { attrs: { dtype: 'type', shape: 'shape=' }, inputs: 0 },
  Const: { attrs: { value: 'tensor', dtype: 'type' }, inputs: 0 },
  Identity: unaryT,
  MatMul: { attrs: { T: 'type', transpose_a: 'bool=', transpose_b: 'bool=' }, inputs: 2 },
  BiasAdd: { attrs: { T: 'type', data_format: 'string=' }, inputs: 2 },
  Relu: unaryT,
  Relu6: unaryT,
  Elu: unaryT,
  Selu: unaryT,
  Softplus: unaryT,
  Softsign: unaryT,
  Sigmoid: unaryT,
  Tanh: unaryT,
  Softmax: unaryT,
  LeakyRelu: { attrs: { alpha: 'float=', T: 'type=' }, inputs: 1 },
  Conv2D: { attrs: { ...conv, use_cudnn_on_gpu: 'bool=' }, inputs: 2 },
  DepthwiseConv2dNative: { attrs: conv, inputs: 2 },
  // MaxPool's explicit_paddings is its newest attr: a writer that targets older releases must not set it.
  MaxPool: { attrs: { T: 'type=', ksize: 'list(int)', strides: 'list(int)', padding: 'string', data_format: 'string=' }, inputs: 1 },
  AvgPool: { attrs: { ksize: 'list(int)', strides: 'list(int)', padding: 'string', data_format: 'string=', T: 'type' }, inputs: 1 },
  Mean: reduce,
  Max: reduce,
  Reshape: { attrs: { T: 'type', Tshape: 'type=' }, inputs: 2 },
  Abs: unaryT,
  Mul: binaryT,
  AddV2: binaryT,
  RealDiv: binaryT,
  AddN: { attrs: { N: 'int', T: 'type' }, inputs: { attr: 'N', plus: 0 } },
  ConcatV2: { attrs: { N: 'int', T: 'type', Tidx: 'type=' }, inputs: { attr: 'N', plus: 1 } },
};

/** Which AttrValue field an attr kind uses. */
function kindMatches(kind: AttrKind, v: AttrValue): boolean {
  switch (kind.replace(/=$/, '')) {
    case 'type':
      return typeof v.type === 'string' && v.type !== 'DT_INVALID';
    case 'bool':
      return typeof v.b === 'boolean';
    case 'int':
      return typeof v.i === 'number';
    case 'float':
      return typeof v.f === 'number';
    case 'string':
      return v.s !== undefined;
    case 'list(int)':
      return v.list !== undefined && (v.list.i === undefined || Array.isArray(v.list.i));
    case 'tensor':
      return v.tensor !== undefined;
    case 'shape':
      return v.shape !== undefined;
  }
  return false;
}

/** Everything TF's graph constructor would reject in `meta`: attrs, arity, dangling inputs, signature tensor names. */
function registryProblems(meta: MetaGraphDef): string[] {
  const problems: string[] = [];
  const nodes = meta.graphDef?.node ?? [];
  const names = new Set(nodes.map((n) => n.name!));
  for (const n of nodes) {
    const where = `${n.name} (${n.op})`;
    const def = OP_DEFS[n.op!];
    if (!def) {
      problems.push(`${where}: op not in the test's table (add its OpDef from TF's registry)`);
      continue;
    }
    const attrs = n.attr ?? {};
    for (const [name, kind] of Object.entries(def.attrs)) {
      if (!kind.endsWith('=') && attrs[name] === undefined) problems.push(`${where}: missing required attr ${name}`);
    }
    for (const [name, v] of Object.entries(attrs)) {
      const kind = def.attrs[name];
      if (!kind) problems.push(`${where}: attr ${name} is not in the OpDef`);
      else if (!kindMatches(kind, v)) problems.push(`${where}: attr ${name} is not a ${kind.replace(/=$/, '')}: ${JSON.stringify(v)}`);
    }
    for (const name of ['strides', 'ksize', 'dilations']) {
      const list = attrs[name]?.list?.i;
      if (def.attrs[name] && list && list.length !== 4) problems.push(`${where}: ${name} has ${list.length} entries, TF needs 4`);
    }
    const data = (n.input ?? []).filter((i) => !i.startsWith('^'));
    const want = typeof def.inputs === 'number' ? def.inputs : (attrs[def.inputs.attr]?.i ?? -1) + def.inputs.plus;
    if (data.length !== want) problems.push(`${where}: ${data.length} data inputs, the OpDef takes ${want}`);
    for (const ref of n.input ?? []) {
      const [node, index] = ref.replace(/^\^/, '').split(':');
      if (!names.has(node!)) problems.push(`${where}: input ${ref} names no node`);
      if (index !== undefined && index !== '0') problems.push(`${where}: input ${ref}: every op here has one output`);
    }
  }
  for (const [key, sig] of Object.entries(meta.signatureDef ?? {})) {
    for (const [alias, info] of [...Object.entries(sig.inputs ?? {}), ...Object.entries(sig.outputs ?? {})]) {
      const m = /^(.+):0$/.exec(info.name ?? '');
      if (!m || !names.has(m[1]!)) problems.push(`signature ${key} ${alias}: tensor ${info.name} is not output 0 of a node`);
    }
  }
  return problems;
}

async function metaOf(dir: string): Promise<MetaGraphDef> {
  return selectMetaGraph((await readSavedModel(dir)).savedModel, ['serve']);
}

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-attrs-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

before(async () => {
  await initBackend('wasm');
});

/** A functional model that uses every layer class and activation layers-to-graph.ts translates. */
function everyLayerModel(): tfl.LayersModel {
  const seed = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  const input = tfl.input({ shape: [6, 6, 2], name: 'pixels' });
  const c1 = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'relu6', name: 'c1', kernelInitializer: seed(1) }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(c1) as tfl.SymbolicTensor;
  const c2 = tfl.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, activation: 'elu', name: 'c2', kernelInitializer: seed(2) }).apply(bn) as tfl.SymbolicTensor;
  const mp = tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same', name: 'mp' }).apply(bn) as tfl.SymbolicTensor;
  const ap = tfl.layers.averagePooling2d({ poolSize: 2, name: 'ap' }).apply(bn) as tfl.SymbolicTensor;
  const gmp = tfl.layers.globalMaxPooling2d({ name: 'gmp' }).apply(mp) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(ap) as tfl.SymbolicTensor;
  const g2 = tfl.layers.globalAveragePooling2d({ name: 'g2' }).apply(c2) as tfl.SymbolicTensor;
  const sum2 = tfl.layers.add({ name: 'sum2' }).apply([gmp, gap]) as tfl.SymbolicTensor;
  const sum3 = tfl.layers.add({ name: 'sum3' }).apply([gmp, gap, g2]) as tfl.SymbolicTensor;
  const cat = tfl.layers.concatenate({ name: 'cat' }).apply([sum2, sum3]) as tfl.SymbolicTensor;
  let h = tfl.layers.reshape({ targetShape: [2, 3], name: 'rs' }).apply(cat) as tfl.SymbolicTensor;
  h = tfl.layers.flatten({ name: 'fl' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dropout({ rate: 0.1, name: 'do' }).apply(h) as tfl.SymbolicTensor;
  const acts = ['selu', 'softplus', 'softsign', 'sigmoid', 'tanh', 'relu', 'linear'] as const;
  acts.forEach((activation, i) => {
    h = tfl.layers.dense({ units: 4, activation, name: `d_${activation}`, kernelInitializer: seed(10 + i) }).apply(h) as tfl.SymbolicTensor;
  });
  h = tfl.layers.reLU({ name: 'relu_layer' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.activation({ activation: 'tanh', name: 'act' }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.softmax({ name: 'probs' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

test('the fixture SavedModels satisfy TensorFlow op registrations, node by node', async () => {
  for (const v of ['1', '2']) {
    const meta = await metaOf(path.join(repoRoot, 'fixtures', 'models', 'mnist', v));
    assert.deepEqual(registryProblems(meta), [], `version ${v}`);
    assert.equal(meta.graphDef!.versions!.producer, GRAPH_VERSIONS.producer);
  }
});

test('a Layers model using every supported layer exports nodes TensorFlow accepts; so does its graph-model round trip', async (t) => {
  const dir = tmp(t);
  const model = everyLayerModel();
  const modelJson = await saveLayersModel(model, path.join(dir, 'tfjs'));
  await exportTfjsAsSavedModel(modelJson, path.join(dir, 'sm'));
  const meta = await metaOf(path.join(dir, 'sm'));
  assert.deepEqual(registryProblems(meta), []);
  // ... and tfsvc's own engine runs it with tfjs-layers' answers (every op has a TensorFlow.js kernel).
  const x = seededFloats(2 * 72);
  const engine = await loadModel(path.join(dir, 'sm'));
  t.after(() => engine.dispose());
  const got = await engine.run('serving_default', { pixels: { dtype: 'DT_FLOAT', shape: [2, 6, 6, 2], data: x } });
  const want = tf.tidy(() => (model.predict(tf.tensor(x, [2, 6, 6, 2])) as tf.Tensor).dataSync());
  assert.ok(maxAbsDiff(got.probs!.data as Float32Array, want as Float32Array) < 1e-5);
  const ops = new Set(meta.graphDef!.node!.map((n) => n.op!));
  for (const op of ['Conv2D', 'MaxPool', 'AvgPool', 'Mean', 'Max', 'AddV2', 'AddN', 'ConcatV2', 'Reshape', 'Mul', 'Relu6', 'Elu', 'Selu', 'Softplus', 'Abs', 'RealDiv', 'Sigmoid', 'Tanh', 'Relu', 'Softmax']) {
    assert.ok(ops.has(op), `the model exercises ${op}`);
  }
  // SavedModel → tfjs graph model (the engine fuses Conv2D/MatMul + BiasAdd + activation) → SavedModel (unfused).
  const gm = await exportSavedModelAsTfjs(path.join(dir, 'sm'), path.join(dir, 'gm'));
  await exportTfjsAsSavedModel(gm.modelJson, path.join(dir, 'back'));
  assert.deepEqual(registryProblems(await metaOf(path.join(dir, 'back'))), []);
});

test('the fixture round-tripped through a tfjs graph model still satisfies the registry', async (t) => {
  const dir = tmp(t);
  const gm = await exportSavedModelAsTfjs(path.join(repoRoot, 'fixtures', 'models', 'mnist', '2'), path.join(dir, 'gm'));
  await exportTfjsAsSavedModel(gm.modelJson, path.join(dir, 'back'));
  assert.deepEqual(registryProblems(await metaOf(path.join(dir, 'back'))), []);
});

test("the table agrees with the OpDefs TensorFlow recorded in ../shared SavedModels' stripped_op_list", needsShared, async () => {
  const dirs = findDirsWith(sharedModelsDir, 'saved_model.pb');
  assert.ok(dirs.length > 5, `found ${dirs.length} SavedModels under ${sharedModelsDir}`);
  const compared = new Set<string>();
  for (const dir of dirs) {
    const sm = (await readSavedModel(dir)).savedModel;
    for (const meta of sm.metaGraphs ?? []) {
      for (const op of meta.metaInfoDef?.strippedOpList?.op ?? []) {
        const spec = OP_DEFS[op.name!];
        if (!spec) continue;
        const tf = new Map((op.attr ?? []).map((a) => [a.name!, a]));
        for (const [name, kind] of Object.entries(spec.attrs)) {
          const a = tf.get(name);
          assert.ok(a, `${op.name}.${name} is in TF's OpDef (${dir})`);
          assert.equal(a.type, kind.replace(/=$/, ''), `${op.name}.${name} type`);
          assert.equal(a.defaultValue !== undefined, kind.endsWith('='), `${op.name}.${name} has a default in TF iff the table says so`);
        }
        // TF's attrs without a default must all be in the table (newer releases may add optional ones).
        for (const a of tf.values()) if (!a.defaultValue) assert.ok(spec.attrs[a.name!], `${op.name} requires ${a.name}, missing from the table`);
        compared.add(op.name!);
      }
    }
  }
  assert.ok(compared.size >= 8, `compared ${[...compared].join(', ')}`);
});
