// `node --max-old-space-size=4096 bin/tfsvc serve` must work: workers inherit the parent's execArgv, and node refuses
// per-process and V8 flags there (ERR_WORKER_INVALID_EXEC_ARGV), which made serve die at startup with an internal
// error. The inference and decode pools start their workers with the flags a Worker accepts (worker-exec-argv.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { FAKE_ENGINE } from '../serving/helpers.js';

const POOL = new URL('../../src/core/engine/pool.js', import.meta.url).href;
const DECODE = new URL('../../src/core/serving/rest/decode-pool.js', import.meta.url).href;
const ARGV = new URL('../../src/core/engine/worker-exec-argv.js', import.meta.url).href;

// Run in a child process started with flags a Worker refuses, next to one it accepts (--no-deprecation).
const script = `
const { WorkerPool } = await import(${JSON.stringify(POOL)});
const { DecodePool } = await import(${JSON.stringify(DECODE)});
const { workerExecArgv } = await import(${JSON.stringify(ARGV)});
const pool = new WorkerPool({ size: 1, loaderModule: ${JSON.stringify(FAKE_ENGINE)} });
const sig = { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 2] } }, outputs: {} };
const decoder = new DecodePool(1);
const d = await decoder.decode('predict', Buffer.from('{"instances": [[1, 2]]}'), { serving_default: sig });
console.log(JSON.stringify({ argv: workerExecArgv(), decoded: [...d.inputs.x.data] }));
await decoder.close();
await pool.close();
`;

test('workers start under node flags a Worker refuses (--max-old-space-size, --v8-pool-size), keeping the ones it accepts', async () => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--max-old-space-size=512', '--v8-pool-size=2', '--no-deprecation', '--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  const r = JSON.parse(out.trim().split('\n').pop()!) as { argv: string[]; decoded: number[] };
  assert.deepEqual(r.argv, ['--no-deprecation']);
  assert.deepEqual(r.decoded, [1, 2]);
});
