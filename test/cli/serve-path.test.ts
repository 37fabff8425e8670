// `tfsvc serve DIR/1` serves version 1 itself, never a newer sibling the base directory also holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelFromPath } from '../../src/commands/serve.js';
import { applyPolicy } from '../../src/core/serving/source.js';
import { UsageError } from '../../src/core/errors.js';

test('serve DIR/1 pins version 1; serve DIR follows the newest', (t) => {
  const base = mkdtempSync(path.join(tmpdir(), 'tfsvc-servepath-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  for (const v of ['1', '2']) {
    mkdirSync(path.join(base, 'm', v), { recursive: true });
    writeFileSync(path.join(base, 'm', v, 'saved_model.pb'), '');
  }
  const pinned = modelFromPath(path.join(base, 'm', '1'), undefined);
  assert.equal(pinned.name, 'm');
  assert.equal(pinned.basePath, path.join(base, 'm'));
  assert.deepEqual(applyPolicy(pinned.policy, [1, 2]), [1], 'the version directory given, not the newest sibling');
  const latest = modelFromPath(path.join(base, 'm'), 'named');
  assert.deepEqual([latest.name, applyPolicy(latest.policy, [1, 2])], ['named', [2]]);
  mkdirSync(path.join(base, 'plain'));
  writeFileSync(path.join(base, 'plain', 'saved_model.pb'), '');
  assert.throws(() => modelFromPath(path.join(base, 'plain'), undefined), (e: unknown) => e instanceof UsageError && /serve needs its base directory/.test(e.message));
});
