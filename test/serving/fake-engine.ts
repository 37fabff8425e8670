// A fake engine for serving tests, loaded inside the pool's worker threads instead of engine/model.js (the pool's
// `loaderModule`). A version directory describes its model in fake.json:
//   {"mul": 2, "add": 1, "delayMs": 0, "loadDelayMs": 0, "fail": "message", "runLog": "/tmp/x", "holdFile": "/tmp/y"}
// `runLog` and `holdFile` let a test synchronise with the worker instead of guessing with delays: each run (except a
// loaded model's first run of each signature, which is the worker's load-time check, engine/health.ts) first appends
// a line `<signature> <batch size>` to runLog (proof a request reached the engine), then waits while holdFile exists
// (a gate: the test creates it to hold runs, deletes it to release them; bounded so a broken test cannot hang forever).
// serving_default: x (DT_FLOAT [-1, 1]) → y = x * mul + add; `echo_batch`: y = the batch size each row ran in (to see
// batching from the outside); `crash`: the worker thread exits mid-request when x[0] is 666 (generated warmup sends
// zeros, so it is safe); `fixed_batch`: x has the fixed shape [1, 1] (no free batch dimension), any other dim 0 is an
// error, and y = the batch size like echo_batch; `faulty` (y = x * mul + add otherwise) fakes the engine failures the pool
// must contain: a row of 13 raises what model.ts raises on a WASM trap (a RequestError whose cause is a
// WebAssembly.RuntimeError "memory access out of bounds") and poisons this thread's engine, so that every later run in
// it fails the same way (what the real WASM backend did); a first row of 7 answers an empty result ([0, 1]) and 8 a
// truncated one (shape [n, 1] with no values), as a broken backend would; a row of 21 poisons the engine silently and
// fails with an ordinary-looking error (what the WASM backend does on a convolution with a negative output size), so
// only the worker's health check after the error can tell. A directory without fake.json fails to load like a broken SavedModel would.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { HostTensor, LoadedModel, SignatureInfo } from '../../src/core/engine/types.js';
import { ModelError, RequestError } from '../../src/core/errors.js';

interface FakeSpec {
  mul?: number;
  add?: number;
  delayMs?: number;
  loadDelayMs?: number;
  fail?: string;
  runLog?: string;
  holdFile?: string;
  corrupt?: string;
  /** While this file exists, loading the model kills the worker thread (a version that crashes every reload). */
  dieOnLoadFile?: string;
}

/** How long a run waits at a closed gate before failing (a test that forgets to release it fails instead of hanging). */
const HOLD_LIMIT_MS = 30_000;

const SPEC = { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] };
const signatures: Record<string, SignatureInfo> = {
  serving_default: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: SPEC }, outputs: { y: { ...SPEC, name: 'y:0' } } },
  echo_batch: { key: 'echo_batch', methodName: 'tensorflow/serving/predict', inputs: { x: SPEC }, outputs: { y: { ...SPEC, name: 'b:0' } } },
  crash: { key: 'crash', methodName: 'tensorflow/serving/predict', inputs: { x: SPEC }, outputs: { y: { ...SPEC, name: 'c:0' } } },
  faulty: { key: 'faulty', methodName: 'tensorflow/serving/predict', inputs: { x: SPEC }, outputs: { y: { ...SPEC, name: 'p:0' } } },
  fixed_batch: {
    key: 'fixed_batch',
    methodName: 'tensorflow/serving/predict',
    inputs: { x: { ...SPEC, shape: [1, 1] } },
    outputs: { y: { ...SPEC, shape: [1, 1], name: 'f:0' } },
  },
};

/** Set once a `faulty` run trapped: this thread's fake engine is broken from then on, like a trapped WASM instance. */
let poisoned = false;

const trap = (): RequestError =>
  new RequestError('INVALID_ARGUMENT', 'running signature faulty failed: memory access out of bounds', { cause: new (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } }).WebAssembly.RuntimeError('memory access out of bounds') });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitWhileExists(file: string): Promise<void> {
  const end = Date.now() + HOLD_LIMIT_MS;
  while (existsSync(file)) {
    if (Date.now() > end) throw new Error(`fake engine: hold file ${file} was never removed`);
    await sleep(5);
  }
}

/**
 * The worker's load-time integrity check for fake models (the real one checks SavedModel files): `"corrupt": "name"`
 * in fake.json fails it the way a CRC32C mismatch of variable `name` does.
 */
export async function verifyModel(dir: string): Promise<void> {
  const file = path.join(dir, 'fake.json');
  if (!existsSync(file)) return; // loadModel reports it
  const spec = JSON.parse(readFileSync(file, 'utf8')) as FakeSpec;
  if (spec.corrupt) {
    const shard = path.join(dir, 'variables', 'variables.data-00000-of-00001');
    throw new ModelError(`${shard}: CRC32C mismatch for variable "${spec.corrupt}" (the file is corrupt)`, shard);
  }
}

export async function loadModel(dir: string): Promise<LoadedModel & { signatureDefs: Record<string, unknown> }> {
  const file = path.join(dir, 'fake.json');
  if (!existsSync(file)) throw new ModelError(`${dir}: not a SavedModel directory (no fake.json)`, file);
  let spec: FakeSpec;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8')) as FakeSpec;
  } catch (err) {
    throw new ModelError(`${file}: ${(err as Error).message}`, file);
  }
  if (spec.dieOnLoadFile && existsSync(spec.dieOnLoadFile)) process.exit(4);
  if (spec.loadDelayMs) await sleep(spec.loadDelayMs);
  if (spec.fail) throw new ModelError(spec.fail, file);
  const mul = spec.mul ?? 1;
  const add = spec.add ?? 0;
  const ranOnce = new Set<string>();
  return {
    backend: `fake(thread ${threadId})`,
    signatures,
    signatureDefs: { serving_default: { methodName: 'tensorflow/serving/predict' } },
    async run(signature: string, inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
      const x = inputs.x;
      if (!signatures[signature]) throw new RequestError('INVALID_ARGUMENT', `unknown signature ${signature}`);
      if (!x || x.dtype !== 'DT_FLOAT') throw new RequestError('INVALID_ARGUMENT', 'input x must be DT_FLOAT');
      if (signature === 'crash' && (x.data as Float32Array)[0] === 666) process.exit(3);
      if (poisoned) throw trap();
      if (signature === 'faulty') {
        const v = x.data as Float32Array;
        if (v.includes(21)) {
          poisoned = true;
          throw new RequestError('INVALID_ARGUMENT', 'running signature faulty failed: Error in fused matMul: inner shapes (1000850105) and (10816) must match', {
            cause: new Error('Error in fused matMul: inner shapes (1000850105) and (10816) must match'),
          });
        }
        if (v.includes(13)) {
          poisoned = true;
          throw trap();
        }
        if (v[0] === 7) return { y: { dtype: 'DT_FLOAT', shape: [0, 1], data: new Float32Array(0) } };
        if (v[0] === 8) return { y: { dtype: 'DT_FLOAT', shape: [...x.shape], data: new Float32Array(0) } };
      }
      if (signature === 'fixed_batch' && x.shape[0] !== 1) throw new RequestError('INVALID_ARGUMENT', `fixed_batch takes x of shape [1,1], not [${x.shape}]`);
      const checkRun = !ranOnce.has(signature);
      ranOnce.add(signature);
      if (spec.runLog && !checkRun) appendFileSync(spec.runLog, `${signature} ${x.shape[0]}\n`);
      if (spec.holdFile && !checkRun) await waitWhileExists(spec.holdFile);
      if (spec.delayMs) await sleep(spec.delayMs);
      const src = x.data as Float32Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = signature === 'echo_batch' || signature === 'fixed_batch' ? x.shape[0]! : src[i]! * mul + add;
      return { y: { dtype: 'DT_FLOAT', shape: [...x.shape], data: out } };
    },
    dispose() {},
  };
}
