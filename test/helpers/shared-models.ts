// Locates ../shared/models (real SavedModels written by TensorFlow) from the repository root. A user's clone has no
// ../shared: tests that need it call `sharedModel(t, ...)` / `describeShared` and skip with a visible message.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** Repository root, found from this compiled file (dist/test/helpers) or its source (test/helpers). */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return dir;
})();

export const sharedModelsDir = path.resolve(repoRoot, '..', 'shared', 'models');
export const haveSharedModels = existsSync(sharedModelsDir);
export const SKIP_SHARED = `../shared/models not found at ${sharedModelsDir}: skipping tests on TensorFlow-written models`;

if (!haveSharedModels && !process.env.TFSVC_QUIET_SKIP) {
  // Visible once per test file that imports this helper.
  process.stderr.write(`# SKIP ${SKIP_SHARED}\n`);
}

/** Options for `test()`/`describe()`: skip with the visible reason when ../shared/models is absent. */
export const needsShared = haveSharedModels ? {} : { skip: SKIP_SHARED };

/** Absolute path of a model under ../shared/models; skips the calling test when the folder is absent. */
export function sharedModel(rel: string, t?: TestContext): string {
  if (!haveSharedModels && t) t.skip(SKIP_SHARED);
  return path.join(sharedModelsDir, rel);
}
