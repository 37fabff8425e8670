// NumPy's .npy/.npz files, saved_model_cli's --input_exprs literals and NumPy's array printing: round trips of every
// dtype, the layouts NumPy writes (Fortran order, big-endian, zip64 and deflated .npz entries), and, when python3 with
// numpy is installed, files written by NumPy itself read here and ours read by NumPy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readNpy, writeNpy } from '../../src/core/wire/npy.js';
import { readNpz } from '../../src/core/wire/npz.js';
import { parsePyExpression, toNdArray, type NdArray } from '../../src/core/wire/py-literal.js';
import { formatNumpy } from '../../src/core/wire/numpy-print.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { UsageError } from '../../src/core/errors.js';
import { zip } from '../helpers/zip.js';

const plain = (t: HostTensor) => ({ dtype: t.dtype, shape: t.shape, data: Array.isArray(t.data) ? t.data.map((b) => Buffer.from(b).toString()) : Array.from(t.data as ArrayLike<unknown>) });

test('.npy round trip of every dtype tfsvc feeds, including int64 beyond 2^53 and byte strings', () => {
  const tensors: HostTensor[] = [
    { dtype: 'DT_FLOAT', shape: [2, 3], data: Float32Array.from([0.5, -1, 2, 3.25, 4, 5]) },
    { dtype: 'DT_DOUBLE', shape: [2], data: Float64Array.from([Math.PI, -0]) },
    { dtype: 'DT_INT32', shape: [3], data: Int32Array.from([-7, 0, 2 ** 31 - 1]) },
    { dtype: 'DT_INT64', shape: [2], data: BigInt64Array.from([9007199254740993n, -(2n ** 63n)]) },
    { dtype: 'DT_UINT8', shape: [2], data: Int32Array.from([0, 255]) },
    { dtype: 'DT_BOOL', shape: [2, 1], data: Uint8Array.from([1, 0]) },
    { dtype: 'DT_STRING', shape: [2], data: [Buffer.from('ab'), Buffer.from('xyz')] },
    { dtype: 'DT_FLOAT', shape: [], data: Float32Array.from([7]) },
  ];
  for (const t of tensors) {
    const bytes = writeNpy(t);
    assert.equal((bytes.readUInt16LE(8) + 10) % 64, 0, 'header padded to 64 bytes');
    assert.deepEqual(plain(readNpy(bytes, 'x.npy')), plain(t), t.dtype);
  }
});

test('.npy layouts NumPy writes: Fortran order, big-endian, unicode, and clear errors', () => {
  const npy = (descr: string, shape: string, body: Buffer, fortran = false) => {
    const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }\n`;
    const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    head.writeUInt16LE(dict.length, 8);
    return Buffer.concat([head, Buffer.from(dict), body]);
  };
  // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
  const f = readNpy(npy('<i4', '(2, 3)', Buffer.from(Int32Array.from([1, 4, 2, 5, 3, 6]).buffer), true), 'f.npy');
  assert.deepEqual(Array.from(f.data as Int32Array), [1, 2, 3, 4, 5, 6]);
  const be = Buffer.alloc(8);
  be.writeDoubleBE(1.5);
  assert.deepEqual(Array.from(readNpy(npy('>f8', '(1,)', be), 'b.npy').data as Float64Array), [1.5]);
  const u = Buffer.alloc(8 * 2);
  u.writeUInt32LE(0x68, 0); // 'h', then NUL padding; 'é'
  u.writeUInt32LE(0xe9, 8);
  assert.deepEqual(plain(readNpy(npy('<U2', '(2,)', u), 'u.npy')).data, ['h', 'é']);
  assert.throws(() => readNpy(npy('|O', '(1,)', Buffer.alloc(8)), 'o.npy'), (e: unknown) => e instanceof UsageError && /o\.npy: dtype '\|O' is not supported/.test(e.message));
  assert.throws(() => readNpy(Buffer.from('not numpy'), 'n.npy'), /n\.npy: not a \.npy file/);
  assert.throws(() => readNpy(npy('<f4', '(4,)', Buffer.alloc(8)), 't.npy'), /needs 16 bytes of data, found 8/);
});

test('.npz: stored and deflated entries by name', () => {
  const a = writeNpy({ dtype: 'DT_FLOAT', shape: [1], data: Float32Array.from([3]) });
  const b = writeNpy({ dtype: 'DT_INT64', shape: [2], data: BigInt64Array.from([1n, 2n]) });
  const arrays = readNpz(zip([{ name: 'a.npy', data: a }, { name: 'b.npy', data: b, deflate: true }]), 'ab.npz');
  assert.deepEqual([...arrays.keys()], ['a', 'b']);
  assert.deepEqual(Array.from(readNpy(arrays.get('b')!, 'b').data as BigInt64Array), [1n, 2n]);
  assert.throws(() => readNpz(Buffer.from('PK nothing'), 'z.npz'), /z\.npz: not a zip/);
});

test('--input_exprs literals and NumPy constructors', () => {
  const nd = (s: string) => toNdArray(parsePyExpression(s, 'x'), 'x');
  const view = (a: NdArray) => ({ shape: a.shape, dtype: a.dtype, values: a.values.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString() : typeof v === 'bigint' ? Number(v) : v)) });
  assert.deepEqual(view(nd('[[1.0], [2.5]]')), { shape: [2, 1], dtype: 'DT_DOUBLE', values: [1, 2.5] });
  assert.deepEqual(view(nd('[[1, 2], [3, 4]]')), { shape: [2, 2], dtype: 'DT_INT64', values: [1, 2, 3, 4] });
  assert.deepEqual(view(nd('5')), { shape: [], dtype: 'DT_INT64', values: [5] });
  assert.deepEqual(view(nd("['a', b'bc']")), { shape: [2], dtype: 'DT_STRING', values: ['a', 'bc'] });
  assert.deepEqual(view(nd('(True, False)')), { shape: [2], dtype: 'DT_BOOL', values: [true, false] });
  assert.deepEqual(view(nd('np.ones((2, 3), dtype=np.float32)')), { shape: [2, 3], dtype: 'DT_FLOAT', values: [1, 1, 1, 1, 1, 1] });
  assert.deepEqual(view(nd("np.zeros(2, dtype='int32')")), { shape: [2], dtype: 'DT_INT32', values: [0, 0] });
  assert.deepEqual(view(nd('np.full((1, 2), 7)')), { shape: [1, 2], dtype: 'DT_INT64', values: [7, 7] });
  assert.deepEqual(view(nd('np.array([[1, 2]], dtype=np.int64)')), { shape: [1, 2], dtype: 'DT_INT64', values: [1, 2] });
  const r = nd('np.random.rand(3, 2)');
  assert.deepEqual([r.shape, r.dtype], [[3, 2], 'DT_DOUBLE']);
  assert.ok(r.values.every((v) => typeof v === 'number' && v >= 0 && v < 1));
  // Python ints keep every digit (int64 ids beyond 2^53).
  assert.equal(nd('[9007199254740993]').values[0], 9007199254740993n);
  for (const bad of ['[[1], [2, 3]]', 'os.system("x")', 'np.ones((2, -1))', '[1, 2', 'np.ones((2,), dtype=np.complex)']) {
    assert.throws(() => nd(bad), UsageError, bad);
  }
});

test("NumPy's str() of arrays (expected strings printed by NumPy 2.x)", () => {
  const f32 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, data: Float32Array.from(v) });
  assert.equal(formatNumpy(f32([3, 1], [2.5, 3, 4.5])), '[[2.5]\n [3. ]\n [4.5]]');
  assert.equal(formatNumpy(f32([2, 3], [0.1, 0.25, 1, 100, -2.125, 0])), '[[  0.1     0.25    1.   ]\n [100.     -2.125   0.   ]]');
  assert.equal(formatNumpy({ dtype: 'DT_INT64', shape: [3], data: BigInt64Array.from([1n, -20n, 9007199254740993n]) }), '[               1              -20 9007199254740993]');
  assert.equal(formatNumpy({ dtype: 'DT_BOOL', shape: [2], data: Uint8Array.from([1, 0]) }), '[ True False]');
  assert.equal(formatNumpy({ dtype: 'DT_DOUBLE', shape: [2], data: Float64Array.from([1e-5, 1]) }), '[1.e-05 1.e+00]');
  assert.equal(formatNumpy(f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])), '[[[1. 2.]\n  [3. 4.]]\n\n [[5. 6.]\n  [7. 8.]]]');
  assert.equal(
    formatNumpy(f32([20], Array.from({ length: 20 }, (_, i) => i / 3))),
    '[0.         0.33333334 0.6666667  1.         1.3333334  1.6666666\n 2.         2.3333333  2.6666667  3.         3.3333333  3.6666667\n 4.         4.3333335  4.6666665  5.         5.3333335  5.6666665\n 6.         6.3333335 ]',
  );
  assert.equal(formatNumpy(f32([2000], Array.from({ length: 2000 }, (_, i) => i))), '[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03]');
});

function haveNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const NUMPY = haveNumpy();

test('files NumPy writes read here, and ours read back by NumPy', { skip: NUMPY ? false : 'python3 with numpy not installed: skipping the NumPy interop check' }, (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-npy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('python3', ['-c', `
import numpy as np
np.save('${dir}/f.npy', np.asfortranarray(np.arange(6, dtype='>i8').reshape(2, 3)))
np.savez('${dir}/s.npz', a=np.array([[1.5]], dtype=np.float32), s=np.array(['ab', 'c']))
np.savez_compressed('${dir}/c.npz', big=np.array([2**62 + 1, -5], dtype=np.int64))
`]);
  const f = readNpy(readFileSync(path.join(dir, 'f.npy')), 'f.npy');
  assert.deepEqual([f.dtype, f.shape, Array.from(f.data as BigInt64Array)], ['DT_INT64', [2, 3], [0n, 1n, 2n, 3n, 4n, 5n]]);
  const s = readNpz(readFileSync(path.join(dir, 's.npz')), 's.npz');
  assert.deepEqual(plain(readNpy(s.get('s')!, 's')).data, ['ab', 'c']);
  assert.deepEqual(Array.from(readNpy(s.get('a')!, 'a').data as Float32Array), [1.5]);
  const c = readNpz(readFileSync(path.join(dir, 'c.npz')), 'c.npz');
  assert.deepEqual(Array.from(readNpy(c.get('big')!, 'big').data as BigInt64Array), [2n ** 62n + 1n, -5n]);
  writeFileSync(path.join(dir, 'ours.npy'), writeNpy({ dtype: 'DT_INT64', shape: [2, 1], data: BigInt64Array.from([2n ** 62n + 1n, 3n]) }));
  const back = execFileSync('python3', ['-c', `import numpy as np; a = np.load('${dir}/ours.npy'); print(a.dtype, a.shape, a.ravel().tolist())`]).toString().trim();
  assert.equal(back, `int64 (2, 1) [${2n ** 62n + 1n}, 3]`);
});
