// Worker threads run nicer than the HTTP thread (serve --worker-niceness, engine/thread-priority.ts): on a shared core
// the thread that decides admission and writes answers must not wait behind inference and decoding. Read back from
// /proc (Linux; elsewhere the option does nothing and these tests skip, saying so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { WorkerPool } from '../../src/core/engine/pool.js';
import { DecodePool } from '../../src/core/serving/rest/decode-pool.js';
import type { SignatureInfo } from '../../src/core/engine/types.js';
import { FAKE_ENGINE, until } from '../serving/helpers.js';

const linux = existsSync('/proc/thread-self');
// Niceness stops at 19: under `nice -n 7` or more, the bulk lane's 13 steps could not show.
const skip = !linux ? 'needs Linux /proc/thread-self (per-thread niceness)' : getPriority(process.pid) > 6 ? `the test process is already at niceness ${getPriority(process.pid)}; 13 more steps cannot be seen past 19` : false;

/** Niceness of every thread of this process, by thread id. */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the ")" of the command name: state is field 3, nice is field 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(fields[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

const base = getPriority(process.pid);
const countAt = (nice: number) => [...niceByThread().values()].filter((n) => n === nice).length;

test('inference workers run `niceness` steps nicer than the process; the main thread keeps its priority', { skip }, async () => {
  const before = countAt(base + 4);
  const pool = new WorkerPool({ size: 2, loaderModule: FAKE_ENGINE, niceness: 4 });
  try {
    await until(() => countAt(base + 4) >= before + 2, () => undefined);
    assert.equal(getPriority(process.pid), base, 'the main thread is untouched');
  } finally {
    await pool.close();
  }
});

test('decode threads run `niceness` steps nicer, the bulk lane 10 more', { skip }, async () => {
  const sig: SignatureInfo = { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 2] } }, outputs: {} };
  const before3 = countAt(base + 3);
  const before13 = countAt(base + 13);
  const pool = new DecodePool(1, 64, 3);
  try {
    const small = await pool.decode('predict', Buffer.from('{"instances": [[1, 2]]}'), { serving_default: sig });
    assert.deepEqual([...(small.inputs.x!.data as Float32Array)], [1, 2]);
    await pool.decode('predict', Buffer.from(`{"instances": [${Array.from({ length: 20 }, () => '[1, 2]').join(',')}]}`), { serving_default: sig });
    await until(() => countAt(base + 3) > before3 && countAt(base + 13) > before13, () => undefined);
  } finally {
    await pool.close();
  }
});
