// The request body the serving benchmarks send (bench/serve.ts, bench/serve-cpu.ts), so their figures compare: one
// MNIST-like instance, 28x28 (or 28x28x1 for a CNN model, chosen by the directory name), deterministic pseudo-pixels
// with one decimal, every number written with a decimal point; for gRPC the same pixels as a PredictRequest.
import { predictRequest } from '../src/core/load/grpc-request.js';
import { resolveTarget } from '../src/core/load/target.js';
import type { HostTensor } from '../src/core/engine/types.js';

export function makeBody(modelDir: string): string {
  const cnn = /cnn/.test(modelDir);
  const rows: unknown[] = [];
  for (let i = 0; i < 28; i++) {
    const row: unknown[] = [];
    for (let j = 0; j < 28; j++) {
      const v = ((i * 31 + j * 17) % 10) / 10;
      row.push(cnn ? [v] : v);
    }
    rows.push(row);
  }
  return JSON.stringify({ instances: [rows] }).replace(/(\[|,)(0|1)(?=[,\]])/g, '$1$2.0');
}

/** The PredictRequest (model "m", serving_default) carrying `json`'s instances as one float tensor for input `alias`. */
export function grpcBodyOf(json: string, alias: string): Buffer {
  const rows = (JSON.parse(json) as { instances: unknown[] }).instances;
  const shape = [rows.length];
  for (let d: unknown = rows[0]; Array.isArray(d); d = d[0]) shape.push(d.length);
  const data = Float32Array.from(rows.flat(Infinity) as number[]);
  return predictRequest(resolveTarget('grpc://127.0.0.1:1', { model: 'm' }), undefined, { [alias]: { dtype: 'DT_FLOAT', shape, data } });
}

/** The serving_default signature's first input alias, from a tfsvc REST port's metadata of model "m". */
export async function inputAlias(restPort: number): Promise<string> {
  const meta = (await (await fetch(`http://127.0.0.1:${restPort}/v1/models/m/metadata`)).json()) as {
    metadata: { signature_def: { signature_def: Record<string, { inputs: Record<string, unknown> }> } };
  };
  return Object.keys(meta.metadata.signature_def.signature_def.serving_default!.inputs)[0]!;
}

/** A [rows, 10] float32 softmax, deterministic: the reply the codec benchmarks encode. */
export function softmax(rows: number): HostTensor {
  const data = new Float32Array(rows * 10);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = 0; k < 10; k++) sum += data[r * 10 + k] = Math.exp(Math.sin(r * 10 + k) * 4);
    for (let k = 0; k < 10; k++) data[r * 10 + k]! /= sum;
  }
  return { dtype: 'DT_FLOAT', shape: [rows, 10], data };
}
