// A TF1 partitioned variable (graph nodes w/part_0, w/part_1; the checkpoint stores w in slices) cannot be frozen by
// tfsvc: the load says so, naming the variable, instead of saying that w/part_0 is missing from the checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExecutableGraph, openModelSource } from '../../src/core/graph/build.js';
import { ModelError } from '../../src/core/errors.js';
import { tempDir } from '../savedmodel/model-copy.js';
import { writePartitionedModel } from '../savedmodel/partitioned-model.js';

test('a partitioned variable is refused with a message that says it is partitioned', async (t) => {
  const dir = tempDir(t);
  writePartitionedModel(dir);
  const src = await openModelSource(dir);
  await assert.rejects(buildExecutableGraph(src, 'serving_default'), (err) => {
    assert.ok(err instanceof ModelError);
    assert.match(err.message, /variable w\/part_0 is a partition of variable w, which the checkpoint stores in slices; tfsvc does not read partitioned variables/);
    return true;
  });
});
