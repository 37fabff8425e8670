// The queue of requests waiting for a connection keeps their order (their latency counts from their intended
// times) through any mix of pushes and shifts, including across its internal compaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumberFifo } from '../../src/core/load/fifo.js';

test('NumberFifo is first in, first out across compactions', () => {
  const q = new NumberFifo();
  const model: number[] = [];
  let next = 0;
  // Grow to a large backlog, drain part of it, grow again, then drain everything: the compaction runs many times.
  for (const [pushes, shifts] of [[50_000, 30_000], [10_000, 25_000], [3, 1], [0, 5_000]] as const) {
    for (let i = 0; i < pushes; i++) q.push(next), model.push(next++);
    for (let i = 0; i < shifts; i++) assert.equal(q.shift(), model.shift());
    assert.equal(q.length, model.length);
  }
  assert.equal(q.length, 2);
  assert.equal(q.shift(), 60_001);
  assert.equal(q.shift(), 60_002);
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0);
  q.push(7);
  q.clear();
  assert.equal(q.shift(), undefined);
});
