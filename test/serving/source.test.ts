// The file-system Source: version policies over real directories, and half-written versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyPolicy, FileSystemSource } from '../../src/core/serving/source.js';
import type { AspiredVersion, Manager } from '../../src/core/serving/manager.js';

class RecordingManager {
  calls = new Map<string, number[]>();
  setAspired(name: string, versions: AspiredVersion[]): void {
    this.calls.set(name, versions.map((v) => v.version));
  }
}

function baseWith(...versions: number[]): string {
  const base = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-source-'));
  for (const v of versions) {
    mkdirSync(path.join(base, String(v)));
    writeFileSync(path.join(base, String(v), 'saved_model.pb'), 'x');
  }
  mkdirSync(path.join(base, 'not_a_version'));
  return base;
}

test('version policies: latest N, all, specific', () => {
  assert.deepEqual(applyPolicy({ kind: 'latest', numVersions: 1 }, [3, 1, 2]), [3]);
  assert.deepEqual(applyPolicy({ kind: 'latest', numVersions: 2 }, [3, 1, 2]), [2, 3]);
  assert.deepEqual(applyPolicy({ kind: 'all' }, [3, 1, 2]), [1, 2, 3]);
  assert.deepEqual(applyPolicy({ kind: 'specific', versions: [2, 9] }, [3, 1, 2]), [2]);
});

test('polls numeric version directories; a new directory is aspired only once it stopped changing', (t) => {
  const base = baseWith(1, 2);
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const mgr = new RecordingManager();
  const src = new FileSystemSource(mgr as unknown as Manager, [{ name: 'm', basePath: base, policy: { kind: 'all' }, labels: {} }]);
  src.pollOnce();
  assert.deepEqual(mgr.calls.get('m'), [1, 2], 'startup takes what is there');
  mkdirSync(path.join(base, '3'));
  writeFileSync(path.join(base, '3', 'saved_model.pb'), 'partial');
  src.pollOnce();
  assert.deepEqual(mgr.calls.get('m'), [1, 2], 'a directory seen once may still be being written');
  writeFileSync(path.join(base, '3', 'variables.data'), 'more');
  src.pollOnce();
  assert.deepEqual(mgr.calls.get('m'), [1, 2], 'it changed since the last poll');
  src.pollOnce();
  assert.deepEqual(mgr.calls.get('m'), [1, 2, 3], 'unchanged across two polls');
  rmSync(path.join(base, '1'), { recursive: true });
  src.pollOnce();
  assert.deepEqual(mgr.calls.get('m'), [2, 3], 'a removed directory is un-aspired');
});

test('a missing base path is reported, not thrown; a removed model is un-aspired', (t) => {
  const base = baseWith(5);
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const mgr = new RecordingManager();
  const errors: string[] = [];
  const src = new FileSystemSource(
    mgr as unknown as Manager,
    [
      { name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} },
      { name: 'gone', basePath: path.join(base, 'missing'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
    ],
    { error: (model, message) => errors.push(`${model}: ${message}`) },
  );
  src.pollOnce();
  src.pollOnce();
  assert.equal(errors.length, 1, 'reported once');
  assert.match(errors[0]!, /^gone: .*no such file or directory/);
  assert.deepEqual(mgr.calls.get('m'), [5]);
  src.setModels([]);
  assert.deepEqual(mgr.calls.get('m'), []);
});
