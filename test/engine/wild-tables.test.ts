// TensorFlow-written models with lookup tables, string preprocessing and DepthToSpace (../shared/models/wild): each
// passes `validate --golden known_answers.json`, and the README's own answers come out (the PetFinder notebook's
// adoption probability). Skipped visibly without ../shared.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { readGolden } from '../../src/core/validate/golden.js';
import { validateTarget } from '../../src/core/validate/validate.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

const MODELS = ['petfinder_lookup', 'finsent_textvec', 'fakenews_textvec', 'espcn_x2'];

describe('wild models with tables, strings and DepthToSpace', needsShared, () => {
  for (const name of MODELS) {
    for (const backend of ['wasm', 'cpu'] as const) {
      test(`${name} passes validate --golden known_answers.json (${backend})`, async () => {
        const dir = sharedModel(`wild/${name}`);
        const golden = await readGolden(path.join(dir, 'known_answers.json'));
        const report = await validateTarget(dir, { golden, backend });
        const failed = report.versions.flatMap((v) => v.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.detail}`));
        assert.deepEqual(failed, []);
        assert.ok(report.versions[0]!.checks.some((c) => c.check.startsWith('golden') && c.status === 'pass'));
      });
    }
  }

  test("petfinder: the notebook's cat gets logit 0.91598, a 71.4% adoption probability", async () => {
    const m = await loadModel(sharedModel('wild/petfinder_lookup/1'), { backend: 'wasm' });
    try {
      const s = (v: string): HostTensor => ({ dtype: 'DT_STRING', shape: [1, 1], data: [Buffer.from(v)] });
      const f = (v: number): HostTensor => ({ dtype: 'DT_FLOAT', shape: [1, 1], data: Float32Array.of(v) });
      const out = await m.run('serving_default', {
        Type: s('Cat'), Age: { dtype: 'DT_INT64', shape: [1, 1], data: BigInt64Array.of(3n) }, Breed1: s('Tabby'), Gender: s('Male'),
        Color1: s('Black'), Color2: s('White'), MaturitySize: s('Small'), FurLength: s('Short'), Vaccinated: s('No'),
        Sterilized: s('No'), Health: s('Healthy'), Fee: f(100), PhotoAmt: f(2),
      });
      const logit = (out.dense_1!.data as Float32Array)[0]!;
      assert.ok(Math.abs(logit - 0.91598) < 1e-4, `logit ${logit}`);
      assert.equal((100 / (1 + Math.exp(-logit))).toFixed(1), '71.4');
    } finally {
      m.dispose();
    }
  });
});
