// `tfsvc run` end to end (a child process started from another directory, as a user would run it) and runOnce.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runOnce } from '../../src/core/run/run-once.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

async function tfsvc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const code = `import(${JSON.stringify(cli)}).then((m) => m.main(['node', 'tfsvc', ...process.argv.slice(1)]))`;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code, ...args], { cwd: tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tfsvc run', needsShared, () => {
  test('raw text (UTF-8 and {"b64": ...}) into a TextVectorization model, ids out', async (t) => {
    const b64 = Buffer.from('net sale increas percent year').toString('base64');
    const body = JSON.stringify({ inputs: { input_1: [['the to of and a in that is'], [{ b64 }]] } });
    const r = await tfsvc('run', sharedModel('wild/fakenews_textvec', t), '--input', body);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout).outputs as number[][];
    assert.deepEqual(out[0], [2, 3, 4, 5, 6, 7, 8, 9]);
    // The b64 row is the same text as UTF-8 would be, padded with 0 to the longest row of the batch.
    const plain = await tfsvc('run', sharedModel('wild/fakenews_textvec', t), '--input', JSON.stringify({ inputs: { input_1: [['net sale increas percent year']] } }));
    const ids = (JSON.parse(plain.stdout).outputs as number[][])[0]!;
    assert.equal(ids.length, 5);
    assert.deepEqual(out[1], [...ids, 0, 0, 0]);
  });

  test('row format from a base directory answers like TF Serving, from any cwd', async (t) => {
    const r = await tfsvc('run', sharedModel('tfserving/saved_model_half_plus_two_cpu', t), '--input', '{"instances": [1.0, 2.0, 5.0]}');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { predictions: [2.5, 3.0, 4.5] });
  });

  test('columnar format, signature from the body, int64 values', async (t) => {
    const r = await runOnce({ model: sharedModel('tfjs/module_with_multiple_signatures', t), body: '{"signature_name": "timestwo", "inputs": {"x": 4.0}}' });
    assert.equal(r.signature, 'timestwo');
    assert.deepEqual(JSON.parse(r.response), { outputs: 8 });
    const i64 = await runOnce({ model: sharedModel('tfjs/int64_multiply', t), body: '{"instances": [[3, 4]]}', backend: 'cpu' });
    assert.deepEqual(JSON.parse(i64.response), { predictions: [[18, 24]] });
    assert.equal(i64.backend, 'cpu');
  });

  test('--signature picks a classify signature fed with base64 tf.Examples', async (t) => {
    // tf.Example {x: float_list [5]} serialized, base64.
    const ex = Buffer.from('Cg8KDQoBeBIIEgYKBAAAoEA=', 'base64');
    assert.ok(ex.length > 0);
    const r = await tfsvc('run', sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t), '--signature', 'classify_x_to_y',
      '--input', JSON.stringify({ instances: [{ b64: ex.toString('base64') }] }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { predictions: [[4.5]] });
  });

  test('errors: bad JSON and missing input are usage errors (exit 2); bad values and unknown signatures fail (exit 1/2)', async (t) => {
    const dir = sharedModel('tfserving/saved_model_half_plus_two_cpu', t);
    let r = await tfsvc('run', dir, '--input', '{"instances": [1');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the input is not valid JSON/);
    r = await tfsvc('run', dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give the request with --input/);
    r = await tfsvc('run', dir, '--input', '{"instances": ["a"]}');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not of expected type: float/);
    r = await tfsvc('run', dir, '--signature', 'nope', '--input', '{"instances": [1]}');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no signature "nope"/);
  });

  test('requests are checked against the signature as serve checks them: shapes and --max-request-elements', async (t) => {
    const dir = sharedModel('tfserving/saved_model_half_plus_two_cpu', t);
    let r = await tfsvc('run', dir, '--input', '{"instances": [1.0, 2.0, 5.0]}', '--max-request-elements', '2');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /input "x": shape \[3\] brings the request to 3 elements, more than the limit of 2 \(--max_request_elements\)/);
    r = await tfsvc('run', dir, '--input', '{"instances": [[1.0, 2.0]]}');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /input "x": shape \[1,2\] is not compatible with the signature's \[-1,1\]/);
    const ok = await runOnce({ model: dir, body: '{"instances": [1.0, 2.0, 5.0]}', maxRequestElements: 3 });
    assert.deepEqual(JSON.parse(ok.response), { predictions: [2.5, 3.0, 4.5] });
  });
});
