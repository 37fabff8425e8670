// Locates ../shared/models (real SavedModels written by TensorFlow) from the repository root. A user's clone has no
// ../shared: tests that need it call `sharedModel(t, ...)` / `describeShared` and skip with a visible message.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
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

/**
 * Every directory under `root` holding `file`, following symbolic links (../shared is often one, and `find` without
 * -L does not descend into a symlinked start point). Sorted; cycles are cut by real-path tracking.
 */
export function findDirsWith(root: string, file: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    let real: string;
    try {
      if (!statSync(dir).isDirectory()) return; // statSync follows links
      real = realpathSync(dir);
    } catch {
      return; // a dangling link
    }
    if (seen.has(real)) return;
    seen.add(real);
    const names = readdirSync(dir).sort();
    if (names.includes(file)) out.push(dir);
    for (const n of names) walk(path.join(dir, n));
  };
  walk(root);
  return out;
}
