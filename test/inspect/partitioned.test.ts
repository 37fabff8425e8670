// A model whose checkpoint holds a partitioned variable (partitioned-model.ts): inspect lists the variable and
// verifies its slices, instead of failing on the entry that holds no data of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/commands/inspect.js';
import { tempDir } from '../savedmodel/model-copy.js';
import { writePartitionedModel } from '../savedmodel/partitioned-model.js';

test('inspect lists a partitioned variable and checks its slices', async (t) => {
  const dir = tempDir(t);
  writePartitionedModel(dir);
  for (const all of [false, true]) {
    const r = await buildReport(dir, { verify: true, all });
    const ck = r.checkpoint!;
    assert.equal(ck.crc, 'ok');
    assert.deepEqual(ck.variables.map((v) => [v.key, v.bytes, v.values]), [
      ['w', 0, null],
      ['w\u0000slice0', 8, all ? [1, 2] : null],
      ['w\u0000slice1', 8, all ? [3, 4] : null],
    ]);
  }
});
