// A real tfsvc gRPC server (src/core/serving/grpc/server.ts) on a free loopback port over a fake ServableLookup whose
// one model, half_plus_two version 123, computes y = 0.5x + 2 (predict) and y = 0.5·x + 2 from tf.Example feature x
// (regress), after an optional delay. Bench and warmup talk to it exactly as to TF Serving's PredictionService.
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { decodeExample } from '../../src/core/engine/example.js';
import { RequestError } from '../../src/core/errors.js';
import { startGrpcServer, type GrpcImpl } from '../../src/core/serving/grpc/server.js';
import type { ServableHandle, ServableLookup, VersionSelector, VersionStatus } from '../../src/core/serving/types.js';

const X = { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] };
const EXAMPLES = { name: 'tf_example:0', dtype: 'DT_STRING', shape: null };
const signatures: Record<string, SignatureInfo> = {
  serving_default: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: X }, outputs: { y: { ...X, name: 'y:0' } } },
  regress_x_to_y: { key: 'regress_x_to_y', methodName: 'tensorflow/serving/regress', inputs: { inputs: EXAMPLES }, outputs: { outputs: { ...X, name: 'y:0' } } },
};
const dims = (shape: number[] | null) => (shape ? { dim: shape.map((size) => ({ size })) } : { unknownRank: true });
const signatureDefs = Object.fromEntries(
  Object.entries(signatures).map(([k, s]) => [
    k,
    {
      methodName: s.methodName,
      inputs: Object.fromEntries(Object.entries(s.inputs).map(([a, t]) => [a, { name: t.name, dtype: t.dtype, tensorShape: dims(t.shape) }])),
      outputs: Object.fromEntries(Object.entries(s.outputs).map(([a, t]) => [a, { name: t.name, dtype: t.dtype, tensorShape: dims(t.shape) }])),
    },
  ]),
);

export interface GrpcFixture {
  /** grpc://127.0.0.1:PORT */
  url: string;
  /** Predict and Regress calls answered. */
  calls: number;
  close(): Promise<void>;
}

/** `impl`: which of tfsvc's gRPC servers (default: the default one). */
export async function startGrpcFixture(o: { delayMs?: number; impl?: GrpcImpl } = {}): Promise<GrpcFixture> {
  const state = { calls: 0 };
  const lookup: ServableLookup = {
    acquire(name: string, selector?: VersionSelector): ServableHandle {
      if (name !== 'half_plus_two') throw new RequestError('NOT_FOUND', `Servable not found for request: Latest(${name})`);
      if (selector?.version !== undefined && selector.version !== 123) {
        throw new RequestError('NOT_FOUND', `Servable not found for request: Specific(${name}, ${selector.version})`);
      }
      return {
        name,
        version: 123,
        signatures,
        signatureDefs,
        run: async (signature, inputs) => {
          if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
          state.calls++;
          const x = inputs.x ?? inputs.inputs!;
          const xs = x.dtype === 'DT_STRING'
            ? (x.data as Uint8Array[]).map((b) => (decodeExample(b).get('x')?.values[0] as number) ?? NaN)
            : Array.from(x.data as Float32Array);
          const y: HostTensor = { dtype: 'DT_FLOAT', shape: x.dtype === 'DT_STRING' ? [xs.length, 1] : [...x.shape], data: Float32Array.from(xs, (v) => 0.5 * v + 2) };
          return { [Object.keys(signatures[signature]!.outputs)[0]!]: y };
        },
        release: () => {},
      };
    },
    status(name: string): VersionStatus[] {
      if (name !== 'half_plus_two') throw new RequestError('NOT_FOUND', `Could not find any versions of model ${name}`);
      return [{ version: 123, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }];
    },
  };
  const server = await startGrpcServer(lookup, { port: 0, host: '127.0.0.1', impl: o.impl });
  return {
    url: `grpc://127.0.0.1:${server.port}`,
    get calls() {
      return state.calls;
    },
    close: () => server.close(),
  };
}
