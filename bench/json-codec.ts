// bench/json-codec: main-thread cost of TF Serving's JSON codec per request, in microseconds, for the body of
// bench/serve.ts (one 28x28 MNIST instance, or 28x28x1 for the CNN) and a batch of 32: decoding through the general path (parseJsonBody +
// decodePredictRequest) and through the fast path (predict-json-fast.ts), and through the decoder's one entry (decodePredictJson: fast path, then the signature check as served), and encoding a [rows, 10] float32 softmax
// output. Both decoders run side by side in one process, so their ratio is what to read on a busy machine.
// The last row writes each value as a client holding float32 data does (Python's json.dumps of np.float32 values, or
// JavaScript's String of a Float32Array element: 0.1 → 0.10000000149011612), 16 to 17 significant digits.
// Usage: node dist/bench/json-codec.js [--ms 1000]
import type { SignatureInfo } from '../src/core/engine/types.js';
import { encodePredictResponse } from '../src/core/wire/json-tensor.js';
import { parseJsonBody } from '../src/core/wire/json-parse.js';
import { decodePredictJson, decodePredictRequest } from '../src/core/wire/predict-json.js';
import { decodePredictFast } from '../src/core/wire/predict-json-fast.js';
import { checkInputs } from '../src/core/wire/signature-check.js';
import { softmax } from './mnist-body.js';

const ms = Number(process.argv.includes('--ms') ? process.argv[process.argv.indexOf('--ms') + 1] : 1000);

function body(rows: number, channel: boolean, float32Digits = false): Buffer {
  const instances: unknown[][][] = [];
  for (let r = 0; r < rows; r++) {
    const img: unknown[][] = [];
    for (let i = 0; i < 28; i++) {
      const row: unknown[] = [];
      for (let j = 0; j < 28; j++) {
        const v = float32Digits ? Math.fround(((i * 31 + j * 17 + r) % 1000) / 1000 + 0.0005) : ((i * 31 + j * 17 + r) % 10) / 10;
        row.push(channel ? [v] : v);
      }
      img.push(row);
    }
    instances.push(img);
  }
  return Buffer.from(JSON.stringify({ instances }).replace(/(\[|,)(0|1)(?=[,\]])/g, '$1$2.0'));
}

const sigOf = (shape: number[]): SignatureInfo => ({
  key: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape } },
  outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 10] } },
});

/** Microseconds per call of `fn`, best of 5 runs of `ms`/5 each (the least disturbed). */
function time(fn: () => unknown): number {
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    let n = 0;
    const t0 = performance.now();
    const end = t0 + ms / 5;
    let t = t0;
    while (t < end) {
      for (let j = 0; j < 50; j++) fn();
      n += 50;
      t = performance.now();
    }
    best = Math.min(best, ((t - t0) * 1000) / n);
  }
  return best;
}

for (const [rows, channel, f32] of [[1, false, false], [32, false, false], [1, true, false], [32, true, true]] as const) {
  const b = body(rows, channel, f32);
  const sig = sigOf(channel ? [-1, 28, 28, 1] : [-1, 28, 28]);
  const sigs = { serving_default: sig };
  // Both paths must agree before their timings mean anything.
  const slow = decodePredictRequest(parseJsonBody(b.toString('utf8')), sig).inputs.x!;
  const fast = decodePredictFast(b, sigs, 'serving_default')!.inputs.x!;
  if (String(slow.shape) !== String(fast.shape) || Buffer.compare(Buffer.from((slow.data as Float32Array).buffer), Buffer.from((fast.data as Float32Array).buffer)) !== 0) {
    throw new Error('fast and general decoding disagree');
  }
  const tParse = time(() => JSON.parse(b.toString('utf8')));
  const tGeneral = time(() => decodePredictRequest(parseJsonBody(b.toString('utf8')), sig));
  const tFast = time(() => decodePredictFast(b, sigs, 'serving_default'));
  const tEntry = time(() => {
    const r = decodePredictJson(b, sigs);
    checkInputs(r.signature, r.inputs, undefined, b.length);
  });
  const out = { y: softmax(rows) };
  const tEncode = time(() => encodePredictResponse(out, 'row', sig));
  console.log(
    `${String(rows).padStart(2)} instance(s) ${channel ? '28x28x1' : '28x28'}${f32 ? ', float32 digits' : ''}, body ${b.length} B: JSON.parse alone ${tParse.toFixed(1)} us | decode general ${tGeneral.toFixed(1)} us, fast ${tFast.toFixed(1)} us (x${(tGeneral / tFast).toFixed(1)}), entry+check ${tEntry.toFixed(1)} us (x${(tEntry / tFast).toFixed(2)} of fast) | encode [${rows},10] float32 ${tEncode.toFixed(1)} us`,
  );
}
