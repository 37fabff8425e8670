// bench/predict-codec: main-thread cost of the gRPC Predict codec per request, in microseconds, through the protobufjs
// path (decode + toObject into plain objects, decodePredictInputs, hostToTensorProtoField + fromObject + encode) and
// through the hand-written one (wire/predict-request-reader.ts + decodeWireInputs, wire/predict-response-writer.ts),
// side by side in one process, rounds interleaved, so their ratio is what to read on a busy machine.
// Requests: the MNIST image bench/serve sends (1x28x28x1 float_val, packed), the same in tensor_content (what Python's
// tf.make_tensor_proto writes for numeric arrays), a batch of 32 images, and one 224x224x3 image in tensor_content;
// replies: a [rows, 10] float32 softmax. Also the ModelSpec that gRPC admission reads before deciding to decode a
// request: protobufjs (a Reader over the top-level fields, decode + toObject of the spec) against the hand reader.
// Usage (after `npm run build`): node dist/bench/predict-codec.js [--ms 1000]
import type { SignatureInfo } from '../src/core/engine/types.js';
import { PLAIN, protoType } from '../src/core/proto/schema.js';
import { decodePredictInputs } from '../src/core/wire/predict-proto.js';
import protobuf from 'protobufjs';
import { decodeWireInputs, peekModelSpec, readPredictRequest } from '../src/core/wire/predict-request-reader.js';
import { encodePredictResponse, PredictReply } from '../src/core/wire/predict-response-writer.js';
import { hostToTensorProtoField } from '../src/core/wire/tensor-field.js';
import { softmax } from './mnist-body.js';

const ms = Number(process.argv.includes('--ms') ? process.argv[process.argv.indexOf('--ms') + 1] : 1000);
const FILE = 'tensorflow_serving.proto';
const reqType = protoType('tensorflow.serving.PredictRequest', FILE);
const resType = protoType('tensorflow.serving.PredictResponse', FILE);
const specType = protoType('tensorflow.serving.ModelSpec', FILE);

/** gRPC admission's ModelSpec read as it was before the hand reader: protobufjs over the top-level fields. */
function protobufPeek(body: Buffer): Plain | undefined {
  const r = protobuf.Reader.create(body);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) return specType.toObject(specType.decode(r.bytes()), PLAIN);
    r.skipType(tag & 7);
  }
  return undefined;
}

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Microseconds per call of each of `fns`, best of 7 interleaved rounds of `ms`/7 each (the least disturbed). */
function time(fns: (() => unknown)[]): number[] {
  const best = fns.map(() => Infinity);
  for (let k = 0; k < 7; k++) {
    fns.forEach((fn, f) => {
      let n = 0;
      const t0 = performance.now();
      const end = t0 + ms / 7 / fns.length;
      let t = t0;
      while (t < end) {
        for (let j = 0; j < 20; j++) fn();
        n += 20;
        t = performance.now();
      }
      best[f] = Math.min(best[f]!, ((t - t0) * 1000) / n);
    });
  }
  return best;
}

function pixels(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 31 + (i >> 5) * 17) % 10) / 10);
}

const cases: { label: string; shape: number[]; content: boolean }[] = [
  { label: 'MNIST 1x28x28x1 float_val', shape: [1, 28, 28, 1], content: false },
  { label: 'MNIST 1x28x28x1 tensor_content', shape: [1, 28, 28, 1], content: true },
  { label: 'MNIST 32x28x28x1 float_val', shape: [32, 28, 28, 1], content: false },
  { label: 'image 1x224x224x3 tensor_content', shape: [1, 224, 224, 3], content: true },
];

console.log(`bench/predict-codec: µs per request on the main thread, best of 7 interleaved rounds; the machine may be shared: read the ratios.`);
for (const c of cases) {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = pixels(n);
  const tensor: Plain = { dtype: 'DT_FLOAT', tensorShape: { dim: c.shape.map((size) => ({ size })) } };
  if (c.content) tensor.tensorContent = Buffer.from(x.buffer);
  else tensor.floatVal = Array.from(x);
  const body = Buffer.from(reqType.encode(reqType.fromObject({ modelSpec: { name: 'm', signatureName: 'serving_default' }, inputs: { x: tensor } })).finish());
  const sig: SignatureInfo = {
    key: 'serving_default',
    methodName: 'tensorflow/serving/predict',
    inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, ...c.shape.slice(1)] } },
    outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 10] } },
  };
  const outputs = { y: softmax(c.shape[0]!) };
  const spec = { name: 'm', version: { value: 1 }, signatureName: 'serving_default' };

  const oldDecode = () => decodePredictInputs(reqType.toObject(reqType.decode(body), PLAIN).inputs, sig);
  const newDecode = () => decodeWireInputs(readPredictRequest(body)!, sig);
  const oldEncode = () => {
    const protoOutputs: Plain = {};
    for (const alias of Object.keys(outputs)) protoOutputs[alias] = hostToTensorProtoField(outputs[alias as 'y']);
    return Buffer.from(resType.encode(resType.fromObject({ modelSpec: spec, outputs: protoOutputs })).finish());
  };
  const newEncode = () => encodePredictResponse(new PredictReply(spec, outputs));

  // Both paths must agree before their timings mean anything.
  const a = oldDecode().x!.data as Float32Array;
  const b = newDecode().x!.data as Float32Array;
  if (Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) !== 0) throw new Error('the two request paths disagree');
  if (!oldEncode().equals(newEncode())) throw new Error('the two reply paths disagree');

  const oldPeek = () => protobufPeek(body);
  const newPeek = () => peekModelSpec(body);
  if (JSON.stringify(oldPeek()) !== JSON.stringify(newPeek())) throw new Error('the two ModelSpec readers disagree');

  const [tOldDec, tNewDec, tOldEnc, tNewEnc, tOldPeek, tNewPeek] = time([oldDecode, newDecode, oldEncode, newEncode, oldPeek, newPeek]);
  const oldAll = tOldDec! + tOldEnc!;
  const newAll = tNewDec! + tNewEnc!;
  console.log(
    `${c.label.padEnd(34)} body ${String(body.length).padStart(7)} B | decode+tensors protobufjs ${tOldDec!.toFixed(1)} us, fast ${tNewDec!.toFixed(1)} us (x${(tOldDec! / tNewDec!).toFixed(1)})` +
      ` | reply [${c.shape[0]},10] protobufjs ${tOldEnc!.toFixed(1)} us, fast ${tNewEnc!.toFixed(1)} us (x${(tOldEnc! / tNewEnc!).toFixed(1)}) | both x${(oldAll / newAll).toFixed(1)}` +
      ` | admission ModelSpec protobufjs ${tOldPeek!.toFixed(2)} us, hand ${tNewPeek!.toFixed(2)} us (x${(tOldPeek! / tNewPeek!).toFixed(1)})`,
  );
}
