// `tfsvc run` with saved_model_cli's spellings on half_plus_two (TensorFlow-written, ../shared/models), in a child
// process as a user runs it: --dir/--tag_set/--signature_def, inputs from .npy and .npz files the test writes,
// --input_exprs, --input_examples, --outdir/--overwrite, and saved_model_cli's error texts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../inspect/run-cli.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { readNpy, writeNpy } from '../../src/core/wire/npy.js';
import { zip } from '../helpers/zip.js';

describe('tfsvc run, saved_model_cli style', needsShared, () => {
  let dir: string;
  let model: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-smc-'));
    model = sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123');
    // float64 as np.save writes by default: run casts it to the signature's DT_FLOAT, as a feed_dict does.
    writeFileSync(path.join(dir, 'x.npy'), writeNpy({ dtype: 'DT_DOUBLE', shape: [3, 1], data: Float64Array.from([1, 2, 5]) }));
    const a = writeNpy({ dtype: 'DT_FLOAT', shape: [1, 1], data: Float32Array.from([10]) });
    const b = writeNpy({ dtype: 'DT_FLOAT', shape: [2, 1], data: Float32Array.from([0, -4]) });
    writeFileSync(path.join(dir, 'two.npz'), zip([{ name: 'a.npy', data: a }, { name: 'b.npy', data: b, deflate: true }]));
    writeFileSync(path.join(dir, 'one.npz'), zip([{ name: 'only.npy', data: b, deflate: true }]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const smc = (...args: string[]) => runCli(['run', '--dir', model, '--tag_set', 'serve', ...args], { cwd: dir });

  test('--inputs from a .npy file, printed as saved_model_cli prints, and written with --outdir', async () => {
    const out = path.join(dir, 'out');
    const r = await smc('--signature_def', 'serving_default', '--inputs', 'x=x.npy', '--outdir', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Result for output key y:\n[[2.5]\n [3. ]\n [4.5]]\nOutput y is saved to ${path.join(out, 'y.npy')}\n`);
    const y = readNpy(readFileSync(path.join(out, 'y.npy')), 'y.npy');
    assert.deepEqual([y.dtype, y.shape, Array.from(y.data as Float32Array)], ['DT_FLOAT', [3, 1], [2.5, 3, 4.5]]);
    // A second run refuses to replace it, and writes nothing; --overwrite replaces it.
    const again = await smc('--signature_def', 'serving_default', '--input_exprs', 'x=[[0.0]]', '--outdir', out);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Output file .*y\.npy already exists\. Add "--overwrite" to overwrite the existing output files\./);
    assert.equal(readNpy(readFileSync(path.join(out, 'y.npy')), 'y').shape[0], 3);
    assert.equal((await smc('--signature_def', 'serving_default', '--input_exprs', 'x=[[0.0]]', '--outdir', out, '--overwrite')).code, 0);
    assert.deepEqual(Array.from(readNpy(readFileSync(path.join(out, 'y.npy')), 'y').data as Float32Array), [2]);
  });

  test('--inputs from .npz archives: [name] picks an array; a single-array archive needs none', async () => {
    const two = await smc('--signature_def', 'serving_default', '--inputs', 'x=two.npz[b]');
    assert.equal(two.code, 0, two.stderr);
    assert.equal(two.stdout, 'Result for output key y:\n[[2.]\n [0.]]\n');
    const one = await smc('--signature_def', 'serving_default', '--inputs', 'x=one.npz');
    assert.equal(one.stdout, 'Result for output key y:\n[[2.]\n [0.]]\n');
    const ambiguous = await smc('--signature_def', 'serving_default', '--inputs', 'x=two.npz');
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /Input file two\.npz contains more than one ndarrays\. Please specify the name of ndarray to use \(a, b\)\./);
    const missing = await smc('--signature_def', 'serving_default', '--inputs', 'x=two.npz[c]');
    assert.match(missing.stderr, /Input file two\.npz does not contain variable with name "c"/);
  });

  test('--input_exprs with NumPy constructors, --input_examples for a regress signature', async () => {
    const ones = await smc('--signature_def', 'serving_default', '--input_exprs', 'x=np.ones((2,1), dtype=np.float32)');
    assert.equal(ones.stdout, 'Result for output key y:\n[[2.5]\n [2.5]]\n');
    const ex = await smc('--signature_def', 'regress_x_to_y', '--input_examples', 'inputs=[{"x": [1.0]}, {"x": [4.0]}]');
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, 'Result for output key outputs:\n[[2.5]\n [4. ]]\n');
    // --input_exprs wins over --inputs for the same key, with saved_model_cli's warning.
    const both = await smc('--signature_def', 'serving_default', '--inputs', 'x=x.npy', '--input_exprs', 'x=[[0.0]]');
    assert.equal(both.stdout, 'Result for output key y:\n[[2.]]\n');
    assert.match(both.stderr, /input_key x has been specified with both --inputs and --input_exprs options\. Value in --input_exprs will be used\./);
  });

  test("saved_model_cli's errors: unknown input key, bad --inputs, no inputs at all, unknown signature", async () => {
    const key = await smc('--signature_def', 'serving_default', '--input_exprs', 'z=[[1.0]]');
    assert.equal(key.code, 2);
    assert.match(key.stderr, /"z" is not a valid input key\. Please choose from "x"/);
    const bad = await smc('--signature_def', 'serving_default', '--inputs', 'x');
    assert.match(bad.stderr, /--inputs "x" format is incorrect\. Please follow "<input_key>=<filename>", or "<input_key>=<filename>\[<variable_name>\]"/);
    const expr = await smc('--signature_def', 'serving_default', '--input_exprs', 'x=__import__("os")');
    assert.equal(expr.code, 2);
    assert.match(expr.stderr, /--input_exprs x: unsupported name "__import__"/);
    const none = await smc('--signature_def', 'serving_default', '--outdir', path.join(dir, 'never'));
    assert.equal(none.code, 2);
    assert.equal(existsSync(path.join(dir, 'never')), false);
    const sig = await smc('--signature_def', 'nope', '--input_exprs', 'x=[[1.0]]');
    assert.equal(sig.code, 2);
    assert.match(sig.stderr, /nope/);
  });
});
