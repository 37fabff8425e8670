// saved_model_cli's `show` and `scan` forms through the real CLI on TensorFlow-written models (../shared/models): the
// tag-set list, SignatureDef keys, one signature's tensors, --all with ops and TF2 "Concrete Functions", and scan
// finding denylisted ops in the graph and inside functions (a model the test writes from half_plus_two's graph).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { decodeSavedModel } from '../../src/core/savedmodel/reader.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import { opsUsedByGraph } from '../../src/core/inspect/saved-model-cli.js';

describe('saved_model_cli show and scan', needsShared, () => {
  const tf1 = () => sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123');
  const tf2 = () => sharedModel('tfserving/saved_model_half_plus_two_tf2_cpu/00000123');
  let dir: string;
  before(() => {
    // half_plus_two's graph with a PrintV2 node, and ReadFile inside a function only a While's body attr reaches.
    dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-scan-'));
    const sm = decodeSavedModel(readFileSync(path.join(tf1(), 'saved_model.pb')), 'saved_model.pb');
    const graph = sm.metaGraphs![0]!.graphDef!;
    graph.node!.push({ name: 'print', op: 'PrintV2', input: ['x'] }, { name: 'loop', op: 'While', attr: { body: { func: { name: 'body_fn' } } } });
    graph.library = { function: [{ signature: { name: 'body_fn' }, nodeDef: [{ name: 'read', op: 'ReadFile' }] }] };
    mkdirSync(path.join(dir, 'bad'));
    writeFileSync(path.join(dir, 'bad', 'saved_model.pb'), encodePlain('tensorflow.SavedModel', sm as Record<string, unknown>));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('show --dir lists tag-sets; --tag_set lists SignatureDef keys; --signature_def shows one signature', async () => {
    const sets = await runCli(['show', '--dir', tf1()]);
    assert.equal(sets.stdout, "The given SavedModel contains the following tag-sets:\n'serve'\n");
    const keys = await runCli(['show', '--dir', tf1(), '--tag_set', 'serve']);
    assert.equal(
      keys.stdout,
      'The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n' +
        ['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default'].map((k) => `SignatureDef key: "${k}"\n`).join(''),
    );
    const one = await runCli(['inspect', '--dir', tf1(), '--tag_set', 'serve', '--signature_def', 'serving_default']);
    assert.equal(
      one.stdout,
      [
        'The given SavedModel SignatureDef contains the following input(s):',
        "  inputs['x'] tensor_info:",
        '      dtype: DT_FLOAT',
        '      shape: (-1, 1)',
        '      name: x:0',
        'The given SavedModel SignatureDef contains the following output(s):',
        "  outputs['y'] tensor_info:",
        '      dtype: DT_FLOAT',
        '      shape: (-1, 1)',
        '      name: y:0',
        'Method name is: tensorflow/serving/predict',
        '',
      ].join('\n'),
    );
    const missing = await runCli(['show', '--dir', tf1(), '--tag_set', 'serve', '--signature_def', 'nope']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Could not find signature "nope"\. Please choose from: /);
    const tags = await runCli(['show', '--dir', tf1(), '--tag_set', 'gpu']);
    assert.equal(tags.code, 2);
    assert.match(tags.stderr, /no meta graph with tag set "gpu"/);
  });

  test('show --all: every signature indented, the ops, and the TF2 concrete functions', async () => {
    const all = await runCli(['show', '--dir', tf2(), '--all']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^\nMetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:\n\nsignature_def\['__saved_model_init_op'\]:\n/);
    assert.match(all.stdout, /\nsignature_def\['serving_default'\]:\n {2}The given SavedModel SignatureDef contains the following input\(s\):\n {4}inputs\['x'\] tensor_info:\n {8}dtype: DT_FLOAT\n {8}shape: \(1\)\n/);
    assert.match(all.stdout, /\nThe MetaGraph with tag set \['serve'\] contains the following ops: \{'AddV2', .*'VarHandleOp', 'VarIsInitializedOp'\}\n/);
    assert.ok(
      all.stdout.includes(
        "\nConcrete Functions:\n  Function Name: 'classify_x2y3'\n    Option #1\n      Callable with:\n        Argument #1\n" +
          "          inputs: TensorSpec(shape=(1,), dtype=tf.float32, name='inputs')\n\n  Function Name: 'classify_xy'\n",
      ),
      all.stdout,
    );
    assert.match(all.stdout, /\n\n {2}Function Name: 'predict'\n {4}Option #1\n {6}Callable with:\n {8}Argument #1\n {10}x: TensorSpec\(shape=\(1,\), dtype=tf\.float32, name='x'\)\n/);
    // A TF1 model has no object graph: no Concrete Functions section.
    assert.doesNotMatch((await runCli(['show', '--dir', tf1(), '--all'])).stdout, /Concrete Functions/);
  });

  test('scan reports denylisted ops, in the graph and in functions reached through attrs; exit 1 when found', async () => {
    const clean = await runCli(['scan', '--dir', tf1()]);
    assert.equal(clean.code, 0);
    assert.equal(clean.stdout, "MetaGraph with tag set ['serve'] does not contain the default denylisted ops: {'PrintV2', 'ReadFile', 'WriteFile'}\n");
    const bad = await runCli(['scan', '--dir', path.join(dir, 'bad')]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "MetaGraph with tag set ['serve'] contains the following denylisted ops: {'PrintV2', 'ReadFile'}\n");
    const custom = await runCli(['scan', path.join(dir, 'bad'), '--tag_set', 'serve', '--op_denylist', 'Mul,WriteFile']);
    assert.equal(custom.stdout, "MetaGraph with tag set ['serve'] contains the following denylisted ops: {'Mul'}\n");
    assert.equal((await runCli(['scan', path.join(dir, 'bad'), '--op_denylist', ''])).code, 0);
  });

  test('ops used: function names are not ops, calls are followed once', () => {
    const ops = opsUsedByGraph({
      node: [{ op: 'f' }, { op: 'StatefulPartitionedCall', attr: { f: { func: { name: 'g' } } } }],
      library: { function: [{ signature: { name: 'f' }, nodeDef: [{ op: 'g' }, { op: 'Add' }] }, { signature: { name: 'g' }, nodeDef: [{ op: 'f' }, { op: 'Mul' }] }] },
    });
    assert.deepEqual([...ops].sort(), ['Add', 'Mul', 'StatefulPartitionedCall']);
  });
});
