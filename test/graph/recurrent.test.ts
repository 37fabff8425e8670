// Keras-style recurrent loops (LSTM, GRU, SimpleRNN; return_sequences true/false; Masking; a free time axis) on
// hand-written SavedModels (recurrent-models.ts), checked against a plain-JS reference of each cell on wasm and cpu,
// at batch sizes 1..N and several sequence lengths. Also: a loop outside the pattern stays tfjs's While, executor
// failures name their node, and validate's load check runs the model at batch 1 and 2, sequence length 1 and 3.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../../src/core/engine/model.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import type { MetaGraphDef } from '../../src/core/savedmodel/types.js';
import { validateVersion } from '../../src/core/validate/validate.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { bidirectionalRnnMeta, reference, reverseTime, rnnMeta, rnnWeights, stackedRnnMeta, type Cell, type RnnOptions } from './recurrent-models.js';
import { removeModelDirs, writeModelDir } from '../helpers/model-dirs.js';

after(removeModelDirs);
const writeModel = (meta: MetaGraphDef) => writeModelDir(meta, 'tfsvc-rnn-');

/** [batch, time, features] values in [-1, 1); with masking, some whole steps are zero (masked). */
function sequence(batch: number, time: number, features: number, masking: boolean): Float32Array {
  const x = new Float32Array(batch * time * features);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < time; s++) {
      const masked = masking && time > 1 && (s + b) % 3 === 2;
      for (let f = 0; f < features; f++) x[(b * time + s) * features + f] = masked ? 0 : Math.sin(1 + b * 7.1 + s * 3.3 + f * 1.7);
    }
  }
  return x;
}

const close = (a: number, r: number) => Math.abs(a - r) <= 1e-5 + 1e-4 * Math.abs(r);

describe('Keras-style recurrent loops run as tfsvc\'s recurrent loop op', () => {
  const cells: Cell[] = ['lstm', 'gru', 'simple'];
  for (const cell of cells) {
    for (const returnSequences of [false, true]) {
      for (const masking of [false, true]) {
        const o: RnnOptions = { cell, returnSequences, masking, features: 3, units: 4, time: -1 };
        test(`${cell}, return_sequences=${returnSequences}, masking=${masking}: batch 1..5 x time 1..9 on wasm and cpu`, async () => {
          const w = rnnWeights(o);
          const dir = writeModel(rnnMeta(o, w));
          const wasm = await loadModel(dir, { backend: 'wasm' });
          const cpu = await loadModel(dir, { backend: 'cpu' });
          const unrolled = await loadModel(dir, { backend: 'wasm', unroll: 32 });
          try {
            assert.equal(wasm.graphs.serving_default!.stats.recurrentLoops, 1, 'the While became the loop op');
            assert.equal(wasm.graphs.serving_default!.stats.functions, 0, 'no While functions are left for tfjs');
            for (const batch of [1, 2, 5]) {
              for (const time of [1, 4, 9]) {
                const x: HostTensor = { dtype: 'DT_FLOAT', shape: [batch, time, 3], data: sequence(batch, time, 3, masking) };
                const want = reference(o, w, x.data as Float32Array, batch, time);
                const a = (await wasm.run('serving_default', { x })).y!;
                const b = (await cpu.run('serving_default', { x })).y!;
                const c = (await unrolled.run('serving_default', { x })).y!;
                assert.deepEqual(a.shape, returnSequences ? [batch, time, 4] : [batch, 4]);
                assert.deepEqual(b.shape, a.shape);
                want.forEach((r, i) => {
                  const va = a.data[i] as number;
                  const vb = b.data[i] as number;
                  assert.ok(close(va, r), `wasm batch ${batch} time ${time} [${i}]: ${va}, reference ${r}`);
                  assert.ok(Math.abs(va - vb) <= 1e-5 * Math.max(1, Math.abs(vb)), `wasm ${va} vs cpu ${vb} at [${i}]`);
                  assert.ok(close(c.data[i] as number, r), `wasm, unrolled, batch ${batch} time ${time} [${i}]: ${c.data[i]}, reference ${r}`);
                });
              }
            }
          } finally {
            wasm.dispose();
            cpu.dispose();
            unrolled.dispose();
          }
        });
      }
    }
  }

  for (const [c1, c2] of [['lstm', 'lstm'], ['gru', 'simple']] as [Cell, Cell][]) {
    test(`stacked ${c1} (return_sequences) → ${c2}: two loops, batch 1 and 3, time 1 and 5`, async () => {
      const first: RnnOptions = { cell: c1, returnSequences: true, masking: false, features: 3, units: 5, time: -1 };
      const second: RnnOptions = { cell: c2, returnSequences: false, masking: false, features: 5, units: 4, time: -1 };
      const w1 = rnnWeights(first, 11);
      const w2 = rnnWeights(second, 23);
      const m = await loadModel(writeModel(stackedRnnMeta(first, second, w1, w2)), { backend: 'wasm' });
      try {
        assert.equal(m.graphs.serving_default!.stats.recurrentLoops, 2);
        for (const batch of [1, 3]) {
          for (const time of [1, 5]) {
            const x = sequence(batch, time, 3, false);
            const hidden = Float32Array.from(reference(first, w1, x, batch, time));
            const want = reference(second, w2, hidden, batch, time);
            const y = (await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [batch, time, 3], data: x } })).y!;
            assert.deepEqual(y.shape, [batch, 4]);
            want.forEach((r, i) => assert.ok(close(y.data[i] as number, r), `batch ${batch} time ${time} [${i}]: ${y.data[i]}, reference ${r}`));
          }
        }
      } finally {
        m.dispose();
      }
    });
  }

  for (const returnSequences of [false, true]) {
    test(`Bidirectional(LSTM, return_sequences=${returnSequences}, masking): forward and backward loops concatenated`, async () => {
      const o: RnnOptions = { cell: 'lstm', returnSequences, masking: true, features: 3, units: 4, time: -1 };
      const wf = rnnWeights(o, 5);
      const wb = rnnWeights(o, 9);
      const m = await loadModel(writeModel(bidirectionalRnnMeta(o, wf, wb)), { backend: 'wasm' });
      try {
        assert.equal(m.graphs.serving_default!.stats.recurrentLoops, 2);
        for (const [batch, time] of [[1, 1], [2, 6]] as const) {
          const x = sequence(batch, time, 3, true);
          const fw = reference(o, wf, x, batch, time);
          let bw = reference(o, wb, reverseTime(x, batch, time, 3), batch, time);
          if (returnSequences) bw = Float64Array.from(reverseTime(bw, batch, time, 4));
          const rows = returnSequences ? batch * time : batch;
          const y = (await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [batch, time, 3], data: x } })).y!;
          assert.deepEqual(y.shape, returnSequences ? [batch, time, 8] : [batch, 8]);
          for (let r = 0; r < rows; r++) {
            for (let k = 0; k < 8; k++) {
              const want = k < 4 ? fw[r * 4 + k]! : bw[r * 4 + k - 4]!;
              assert.ok(close(y.data[r * 8 + k] as number, want), `row ${r} [${k}]: ${y.data[r * 8 + k]}, reference ${want}`);
            }
          }
        }
      } finally {
        m.dispose();
      }
    });
  }

  test('a loop stopped by maximum_iterations before the sequence ends: the unrolled run sees it and the loop runs', async () => {
    const o: RnnOptions = { cell: 'gru', returnSequences: false, masking: false, features: 3, units: 4, time: -1, maxIterations: 3 };
    const w = rnnWeights(o);
    const m = await loadModel(writeModel(rnnMeta(o, w)), { backend: 'wasm', unroll: 32 });
    try {
      for (const time of [5, 2]) {
        const x = sequence(2, time, 3, false);
        const steps = Math.min(time, 3);
        const firstSteps = Float32Array.from({ length: 2 * steps * 3 }, (_, i) => x[Math.floor(i / (steps * 3)) * time * 3 + (i % (steps * 3))]!);
        const want = reference(o, w, firstSteps, 2, steps);
        const y = (await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [2, time, 3], data: x } })).y!;
        want.forEach((r, i) => assert.ok(close(y.data[i] as number, r), `time ${time} [${i}]: ${y.data[i]}, reference ${r}`));
      }
    } finally {
      m.dispose();
    }
  });

  test('no tensor is left behind: by runs that succeed, that fail in the body, or that fail in the loop itself', async () => {
    const o: RnnOptions = { cell: 'lstm', returnSequences: true, masking: true, features: 3, units: 4, time: -1 };
    for (const options of [{}, { unroll: 32 }, { recurrentLoops: false }]) {
      const m = await loadModel(writeModel(rnnMeta(o)), { backend: 'wasm', ...options });
      try {
        const good: HostTensor = { dtype: 'DT_FLOAT', shape: [2, 6, 3], data: sequence(2, 6, 3, true) };
        const badFeatures: HostTensor = { dtype: 'DT_FLOAT', shape: [2, 4, 5], data: new Float32Array(40) };
        const empty: HostTensor = { dtype: 'DT_FLOAT', shape: [2, 0, 3], data: new Float32Array(0) };
        // One round first: each sequence length seen gets its unrolled graph (weights included) cached, once.
        await m.run('serving_default', { x: good });
        await assert.rejects(m.run('serving_default', { x: badFeatures }));
        await m.run('serving_default', { x: empty }).catch(() => undefined);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) {
          await m.run('serving_default', { x: good });
          await assert.rejects(m.run('serving_default', { x: badFeatures }));
          await m.run('serving_default', { x: empty }).catch(() => undefined);
        }
        assert.equal(tf.memory().numTensors, before, `tensors leaked (${JSON.stringify(options)})`);
        const again = await m.run('serving_default', { x: good });
        assert.deepEqual(again.y!.shape, [2, 6, 4]);
      } finally {
        m.dispose();
      }
    }
  });

  test('a loop whose output list is read another way (TensorListGetItem after the loop) stays tfjs\'s While', async () => {
    const o: RnnOptions = { cell: 'simple', returnSequences: false, masking: false, features: 3, units: 4, time: -1, readLastItem: true };
    const m = await loadModel(writeModel(rnnMeta(o)), { backend: 'cpu' });
    try {
      assert.equal(m.graphs.serving_default!.stats.recurrentLoops, 0);
      assert.equal(m.graphs.serving_default!.stats.functions, 2, 'cond and body stay in the tfjs library');
    } finally {
      m.dispose();
    }
  });

  test('an executor failure names the node: a feature size the kernel cannot take fails in the body\'s MatMul', async () => {
    const o: RnnOptions = { cell: 'lstm', returnSequences: false, masking: false, features: 3, units: 4, time: -1 };
    const m = await loadModel(writeModel(rnnMeta(o)), { backend: 'wasm' });
    try {
      const x: HostTensor = { dtype: 'DT_FLOAT', shape: [2, 4, 5], data: new Float32Array(40) };
      await assert.rejects(m.run('serving_default', { x }), (err: Error & { code?: string; cause?: unknown }) => {
        // Named as in the body (an unrolled loop adds its iteration: i0/...).
        assert.match(err.message, /^signature serving_default: node "(i0\/)?rnn_while_body_10\/MatMul" \(MatMul\) failed: .*inner shapes/);
        assert.equal(err.code, 'INVALID_ARGUMENT');
        assert.ok(err.cause instanceof Error, 'the underlying error (and its stack, for --debug) is kept as the cause');
        return true;
      });
      // The model still answers after the failure.
      const ok = await m.run('serving_default', { x: { dtype: 'DT_FLOAT', shape: [1, 2, 3], data: new Float32Array(6).fill(0.5) } });
      assert.deepEqual(ok.y!.shape, [1, 4]);
    } finally {
      m.dispose();
    }
  });

  test('the tfjs While path (executeAsync) names its failing node too, not a node started after it', async () => {
    const o: RnnOptions = { cell: 'simple', returnSequences: false, masking: false, features: 3, units: 4, time: -1 };
    const m = await loadModel(writeModel(rnnMeta(o)), { backend: 'cpu', recurrentLoops: false });
    try {
      const x: HostTensor = { dtype: 'DT_FLOAT', shape: [1, 2, 5], data: new Float32Array(10) };
      // TensorListFromTensor rejects the [time, 1, 5] sequence for its [-1, 3] element shape; tfjs goes on starting
      // other nodes (the zero state's Fill) before the rejection arrives.
      await assert.rejects(m.run('serving_default', { x }), /signature serving_default: node "input_list" \(TensorListFromTensor\) failed: TensorList shape mismatch/);
    } finally {
      m.dispose();
    }
  });

  test('a sequence of length 0 fails naming the loop: its output list has no element shape to stack', async () => {
    const o: RnnOptions = { cell: 'gru', returnSequences: true, masking: false, features: 3, units: 4, time: -1 };
    const m = await loadModel(writeModel(rnnMeta(o)), { backend: 'wasm' });
    try {
      const x: HostTensor = { dtype: 'DT_FLOAT', shape: [2, 0, 3], data: new Float32Array(0) };
      await assert.rejects(m.run('serving_default', { x }), /node "rnn\/while" \(StatelessWhile\) failed: TensorListStack: the loop rnn\/while ran zero times/);
    } finally {
      m.dispose();
    }
  });
});

describe('unsupported things are named at load time with one line on what to do', () => {
  test('an op tfjs lacks: its node, and the advice to re-export without it', async () => {
    const meta = rnnMeta({ cell: 'simple', returnSequences: false, masking: false, features: 2, units: 2, time: -1 });
    meta.graphDef!.node!.push({ name: 'lgamma', op: 'Lgamma', input: ['y'], attr: { T: { type: 'DT_FLOAT' } } });
    meta.signatureDef!.serving_default!.outputs!.y!.name = 'lgamma:0';
    await assert.rejects(
      loadModel(writeModel(meta), { backend: 'cpu', signatures: ['serving_default'] }),
      /signature serving_default uses ops TensorFlow\.js cannot run: Lgamma \(1 node: lgamma\)\. What to do: TensorFlow\.js has no kernel for these ops: re-export/,
    );
  });

  test('a variable write (a stateful layer, a counter): its node, and the advice to export a stateless signature', needsShared, async () => {
    const dir = sharedModel('tfserving/saved_model_counter/00000123');
    await assert.rejects(
      loadModel(dir, { backend: 'cpu', signatures: ['incr_counter'] }),
      /AssignAdd \(1 node: incr_counter_op\/AssignAdd\)\. What to do: the signature writes variables .* stateful=False/,
    );
  });
});

describe('validate: the load check runs every signature', () => {
  test('a recurrent model with a free time axis runs at batch 1 and 2, sequence length 1 and 3', async () => {
    const dir = writeModel(rnnMeta({ cell: 'lstm', returnSequences: true, masking: true, features: 2, units: 3, time: -1 }));
    const report = await validateVersion(dir, { backend: 'wasm' });
    const load = report.checks.find((c) => c.check === 'load')!;
    assert.equal(load.status, 'pass', load.detail);
    assert.match(load.detail, /every op supported and ran \(batch 1, 2; sequence length 1, 3; 1 signature\)/);
  });

  test('a model whose ops are all supported but which crashes at batch 2 fails the load check, naming the node', async () => {
    const t = (type: string) => ({ type });
    const meta: MetaGraphDef = {
      metaInfoDef: { tags: ['serve'] },
      graphDef: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
          { name: 'shape', op: 'Const', attr: { dtype: t('DT_INT32'), value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: 2 }] }, intVal: [1, 3] } } } },
          { name: 'y', op: 'Reshape', input: ['x', 'shape'], attr: { T: t('DT_FLOAT'), Tshape: t('DT_INT32') } },
        ],
      },
      signatureDef: {
        serving_default: {
          methodName: 'tensorflow/serving/predict',
          inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: 3 }] } } },
          outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 3 }] } } },
        },
      },
    };
    const report = await validateVersion(writeModel(meta), { backend: 'cpu' });
    const load = report.checks.find((c) => c.check === 'load')!;
    assert.equal(load.status, 'fail');
    assert.match(load.detail, /^signature serving_default failed on generated inputs x float\[2,3\]: signature serving_default: node "y" \(Reshape\) failed: /);
    assert.equal(report.ok, false);
  });
});
