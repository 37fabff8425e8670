// Copies a model folder into a fresh temp directory so a test can corrupt the copy; removed when the test ends.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** A copy of `src` at `<tmp>/<basename>`; deleted after the test. */
export function copyModel(src: string, t: TestContext): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-test-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const dest = path.join(tmp, path.basename(src));
  cpSync(src, dest, { recursive: true });
  return dest;
}

/** An empty temp directory, deleted after the test. */
export function tempDir(t: TestContext): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-test-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  return tmp;
}
