// Puts the request gate (src/core/serving/gate.ts: auth, rate limits, concurrency cap) in front of every unary
// method of a gRPC service implementation. The gate sees the call's metadata, peer and the model its request names
// (ModelSpec.name) before the handler runs; a refusal is the gRPC status TF Serving's codes map to
// (UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED).
import type * as grpc from '@grpc/grpc-js';
import type { Gate } from '../gate.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `impl` with every unary handler admitted by `gate` first; `toStatus` turns a refusal into the status to send. */
export function gatedService(
  impl: grpc.UntypedServiceImplementation,
  gate: Pick<Gate, 'admitGrpc'>,
  toStatus: (err: unknown) => Partial<grpc.StatusObject>,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(impl)) {
    const unary = handler as grpc.handleUnaryCall<Plain, Plain>;
    out[name] = ((call: grpc.ServerUnaryCall<Plain, Plain>, callback: grpc.sendUnaryData<Plain>) => {
      const model = call.request?.modelSpec?.name as string | undefined;
      // The h2 server's calls name their HTTP/2 session (one per connection): the gate remembers the token last
      // verified on it. grpc-js exposes no connection to a handler, so its calls are checked by the token cache alone.
      const connection = (call as { connection?: object }).connection;
      gate.admitGrpc(call.metadata, call.getPeer(), model, connection).then(
        (release) => {
          let released = false;
          const end = (): void => {
            if (!released) {
              released = true;
              release();
            }
          };
          call.on('cancelled', end);
          unary(call, (err, value) => {
            end();
            callback(err, value);
          });
        },
        (err: unknown) => callback(toStatus(err)),
      );
    }) as grpc.UntypedHandleCall;
  }
  return out;
}
