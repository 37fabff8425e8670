// bench/models.ts (npm run corpus): every SavedModel under a directory becomes rows of (model, signature, result,
// reason, timings); a model that loads but whose signature cannot run fails with the reason, the others pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkModel, findSavedModels } from '../../bench/models.js';
import { encodePlain } from '../../src/core/proto/schema.js';

const t = (type: string) => ({ type });
const sig = (input: string, output: string, dtype = 'DT_FLOAT') => ({
  methodName: 'tensorflow/serving/predict',
  inputs: { x: { name: input, dtype, tensorShape: { dim: [{ size: -1 }] } } },
  outputs: { y: { name: output, dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } } },
});

test('the corpus check lists each signature with pass/fail and the reason, and finds nested SavedModels', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tfsvc-corpus-'));
  try {
    const write = (rel: string, meta: object) => {
      mkdirSync(path.join(root, rel), { recursive: true });
      writeFileSync(path.join(root, rel, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
    };
    write('good/1', {
      metaInfoDef: { tags: ['serve'] },
      graphDef: { node: [{ name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } }, { name: 'y', op: 'Neg', input: ['x'], attr: { T: t('DT_FLOAT') } }] },
      signatureDef: { serving_default: sig('x:0', 'y:0') },
    });
    write('nested/odd/3', {
      metaInfoDef: { tags: ['serve'] },
      graphDef: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
          { name: 'y', op: 'Neg', input: ['x'], attr: { T: t('DT_FLOAT') } },
          { name: 'z', op: 'Lgamma', input: ['x'], attr: { T: t('DT_FLOAT') } },
        ],
      },
      signatureDef: { neg: sig('x:0', 'y:0'), lgamma: sig('x:0', 'z:0') },
    });
    const dirs = findSavedModels(root);
    assert.deepEqual(dirs.map((d) => path.relative(root, d)), ['good/1', 'nested/odd/3']);
    const good = await checkModel(root, dirs[0]!, 'cpu');
    assert.deepEqual(good.map((r) => [r.model, r.signature, r.ok]), [['good/1', 'serving_default', true]]);
    assert.ok(good[0]!.inferenceMs !== null && good[0]!.loadMs !== null);
    const odd = await checkModel(root, dirs[1]!, 'cpu');
    const bySig = Object.fromEntries(odd.map((r) => [r.signature, r]));
    assert.equal(bySig.neg!.ok, true);
    assert.equal(bySig.lgamma!.ok, false);
    assert.match(bySig.lgamma!.reason, /^ops:lgamma: signature lgamma uses ops TensorFlow.js cannot run: Lgamma \(1 node: z\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
