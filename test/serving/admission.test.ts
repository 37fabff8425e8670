// Admission control before the body is read: a REST request whose body is in but which is not yet in the batch queue
// (being decoded) holds room in the queue it will join, so a burst decoded together cannot overfill the queue (each
// is counted at the rows its target's recent requests had); once it is in the queue (or answered) only the queue
// counts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../../src/core/serving/admission.js';
import { RequestError } from '../../src/core/errors.js';

/** A batch queue of `capacity` rows, of which `queued` are taken; records the rows each probe asked for. */
function queue(capacity: number) {
  const q = { queued: 0, asked: [] as number[] };
  const probe = (_m: string, _v: number, _s: string, rows = 1) => {
    q.asked.push(rows);
    return q.queued + rows <= capacity;
  };
  return { q, probe };
}

const target = { model: 'm', version: 1, signature: 'serving_default' };
const full = (e: unknown) => e instanceof RequestError && e.code === 'UNAVAILABLE' && /queue to which this task was submitted is full/.test(e.message);

test('requests admitted and not yet queued count against the queue, at the rows their target\'s requests have had', () => {
  const { q, probe } = queue(256);
  const admission = new Admission({ queueHasRoom: probe });
  // The first request teaches the target's size: 64 rows.
  const first = admission.admit(1000, target, { untilQueued: true });
  first.bodyRead();
  first.queued(64);
  q.queued += 64;
  first.release();
  q.queued -= 64;
  // A burst is read before any of it reaches the queue: 64 rows each, four fill the 256 rows, and the next request
  // is refused at once, before its body is read.
  const held = [];
  let refused = 0;
  for (let i = 0; i < 20; i++) {
    try {
      const t = admission.admit(1000, target, { untilQueued: true });
      t.bodyRead();
      held.push(t);
    } catch (e) {
      assert.ok(full(e), String(e));
      refused++;
    }
  }
  assert.equal(held.length, 4);
  assert.equal(refused, 16);
  assert.deepEqual(q.asked.slice(1, 6), [64, 128, 192, 256, 320], "each probe asks for the rows of those ahead plus its own");
  assert.equal(admission.rejected.queueFull, refused);
  // As they reach the queue they stop counting as pending (the queue counts them); answered, they free everything.
  for (const t of held) {
    t.queued(64);
    t.release();
  }
  assert.doesNotThrow(() => admission.admit(1000, target, { untilQueued: true }).release());
  assert.equal(admission.inFlightBytes(), 0);
});

test('a request refused by its decoder (never queued) stops counting when it is answered; gRPC-style admits are not pending', () => {
  const { q, probe } = queue(4);
  const admission = new Admission({ queueHasRoom: probe });
  const read = () => {
    const t = admission.admit(10, target, { untilQueued: true });
    t.bodyRead();
    return t;
  };
  // Still uploading: not counted (the engine is not starved while bodies trickle in).
  const uploading = Array.from({ length: 6 }, () => admission.admit(10, target, { untilQueued: true }));
  for (const t of uploading) t.release();
  const a = read();
  const b = read();
  const c = read();
  const d = read();
  assert.throws(() => admission.admit(10, target, { untilQueued: true }), full);
  a.release(); // a 400 from the decoder
  b.release();
  assert.doesNotThrow(() => admission.admit(10, target, { untilQueued: true }).release());
  c.release();
  d.release();
  // Without untilQueued (the message is decoded at once), only the queue itself counts.
  const held = Array.from({ length: 10 }, () => admission.admit(10, target));
  assert.equal(held.length, 10);
  assert.ok(q.asked.every((r) => r >= 1));
  for (const t of held) t.release();
});
