// gRPC clients of tfsvc's (or TF Serving's) PredictionService and ModelService for tests, and a promise-returning
// unary call. Close the clients when done.
import * as grpc from '@grpc/grpc-js';
import { servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function servingClients(port: number): { prediction: grpc.Client; model: grpc.Client } {
  const defs = servingServiceDefinitions();
  const Prediction = grpc.makeGenericClientConstructor(defs.prediction, 'PredictionService');
  const Model = grpc.makeGenericClientConstructor(defs.model, 'ModelService');
  const address = `127.0.0.1:${port}`;
  return { prediction: new Prediction(address, grpc.credentials.createInsecure()), model: new Model(address, grpc.credentials.createInsecure()) };
}

export function callUnary(client: grpc.Client, method: string, request: Plain): Promise<Plain> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Plain, cb: (e: grpc.ServiceError | null, v: Plain) => void) => void>)[method]!(request, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
