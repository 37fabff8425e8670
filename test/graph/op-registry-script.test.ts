// scripts/gen-op-registry-defaults.mjs: TensorFlow op definitions (ops.pbtxt / ops_history_v2 text) in, the defaults
// table out, for executed ops only; the last definition of an op wins (ops_history order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/shared-models.js';

test('the generator keeps executed ops with defaults, drops the rest, and records its source', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-opdefs-'));
  try {
    const pbtxt = path.join(dir, 'ops.pbtxt');
    writeFileSync(pbtxt, `
op { name: "DepthToSpace" attr { name: "T" type: "type" } attr { name: "block_size" type: "int" }
     attr { name: "data_format" type: "string" default_value { s: "NHWC" } } }
op { name: "ApplyAdam" attr { name: "use_locking" type: "bool" default_value { b: false } } }
op { name: "Abs" attr { name: "T" type: "type" } }
op { name: "LeakyRelu" attr { name: "alpha" type: "float" default_value { f: 0.1 } } }
op { name: "LeakyRelu" attr { name: "alpha" type: "float" default_value { f: 0.2 } } }
op { name: "Conv2D" attr { name: "dilations" type: "list(int)" default_value { list { i: 1 i: 1 i: 1 i: 1 } } }
     attr { name: "explicit_paddings" type: "list(int)" default_value { list { } } } }
`);
    const out = path.join(dir, 'table.ts');
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts/gen-op-registry-defaults.mjs'), '--source', 'test@abc ops.pbtxt', '--out', out, pbtxt]);
    const ts = readFileSync(out, 'utf8');
    assert.match(ts, /^\/\/ Source: test@abc ops\.pbtxt$/m);
    assert.match(ts, /^ {2}DepthToSpace: \{ data_format: \{ s: bytes\("NHWC"\) \} \},$/m);
    assert.match(ts, /^ {2}LeakyRelu: \{ alpha: \{ f: 0\.2 \} \},$/m);
    assert.match(ts, /^ {2}Conv2D: \{ dilations: \{ list: \{ i: \[1, 1, 1, 1\] \} \}, explicit_paddings: \{ list: \{\} \} \},$/m);
    assert.doesNotMatch(ts, /ApplyAdam|Abs:/); // not executed by tfsvc / no defaults
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
