// TFJS_OPS must match what the installed tfjs-converter maps, so an upgrade cannot silently change op support.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TFJS_OPS } from '../../src/core/graph/tfjs-ops.js';

test('TFJS_OPS equals the op mappings of the installed @tensorflow/tfjs-converter', () => {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-converter')), 'operations', 'op_list');
  const installed = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(/'tfOpName': '([A-Za-z0-9_]+)'/g)) installed.add(m[1]!);
  }
  assert.ok(installed.size > 100, `found only ${installed.size} ops in ${dir}`);
  assert.deepEqual([...TFJS_OPS].sort(), [...installed].sort());
});
