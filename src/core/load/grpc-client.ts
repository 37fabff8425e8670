// The gRPC side of an attack: TF Serving's tensorflow.serving.PredictionService over @grpc/grpc-js. Request messages
// are encoded before the run (grpc-request.ts), so a call only moves bytes: the serializer is the identity and the
// answer is counted, not decoded. One channel (one HTTP/2 connection) per --connections; calls go round-robin.
// `send` never throws; it resolves to an Outcome like the HTTP client's, with the gRPC status mapped to the HTTP
// status TF Serving's REST API gives the same error (errors.ts ErrorCode), so reports and SLOs read alike.
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, type ErrorCodeName } from '../errors.js';
import type { ClientOptions, Outcome } from './client.js';
import type { ErrorKind } from './result.js';
import { grpcCredentials, grpcMetadata, NO_SECURITY, type ClientSecurity } from './security.js';

/** The PredictionService methods a bench or warmup calls. */
export type GrpcMethod = 'Predict' | 'Classify' | 'Regress' | 'GetModelMetadata';

export const PREDICTION_SERVICE = 'tensorflow.serving.PredictionService';

/** The gRPC status code's name (grpc.status is TF's canonical code numbering). */
export function grpcCodeName(code: number): string {
  return grpc.status[code] ?? `code ${code}`;
}

/** HTTP status for a gRPC status: 200 for OK, else TF Serving's REST mapping of the same canonical code. */
export function httpStatusOf(code: number): number {
  if (code === grpc.status.OK) return 200;
  return ErrorCode[grpcCodeName(code) as ErrorCodeName] ?? 500;
}

/**
 * Why a call failed. DEADLINE_EXCEEDED is a timeout; UNAVAILABLE from the channel (no connection, or a dropped one)
 * is a transport error; any other status is the server's answer, counted like a non-2xx HTTP response ('http').
 */
export function grpcErrorKind(err: grpc.ServiceError): ErrorKind {
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'timeout';
  if (err.code === grpc.status.UNAVAILABLE) {
    const d = err.details ?? '';
    if (/No connection established|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|Name resolution failed|connect/i.test(d)) return 'connect';
    if (/ECONNRESET|EPIPE|Connection dropped|GOAWAY|closed|reset/i.test(d)) return 'reset';
    return 'http';
  }
  if (err.code === grpc.status.INTERNAL && /RST_STREAM|protocol error/i.test(err.details ?? '')) return 'reset';
  return 'http';
}

const identity = (b: Buffer): Buffer => b;

/** grpc-js ends connection errors with an empty "Resolution note:"; drop it. */
export function cleanDetails(details: string | undefined): string {
  return (details ?? '').replace(/\s*Resolution note:\s*$/, '');
}

export class GrpcClient {
  private readonly channels: grpc.Client[] = [];
  private next = 0;
  private readonly path: string;

  /** `address` is host:port; `method` the PredictionService method every `send` calls. */
  constructor(
    readonly address: string,
    readonly method: GrpcMethod,
    private readonly options: ClientOptions,
    private readonly security: ClientSecurity = NO_SECURITY,
  ) {
    this.path = `/${PREDICTION_SERVICE}/${method}`;
    const credentials = grpcCredentials(security);
    for (let i = 0; i < Math.max(1, options.connections); i++) {
      this.channels.push(
        new grpc.Client(address, credentials, {
          // Without a local pool, grpc-js shares one subchannel (one TCP connection) among channels to the same address.
          'grpc.use_local_subchannel_pool': 1,
          // TF Serving accepts messages up to 2 GiB; grpc-js' default receive limit is 4 MiB.
          'grpc.max_receive_message_length': -1,
          'grpc.max_send_message_length': -1,
        }),
      );
    }
  }

  /** Calls the method with the encoded request `body`; resolves when the answer (or the error) arrives. Never rejects. */
  send(body: Buffer): Promise<Outcome> {
    const channel = this.channels[this.next++ % this.channels.length]!;
    return new Promise<Outcome>((resolve) => {
      let bytesIn = 0;
      try {
        channel.makeUnaryRequest(
          this.path,
          identity,
          (b: Buffer) => {
            bytesIn = b.length;
            return b;
          },
          body,
          grpcMetadata(this.security),
          { deadline: Date.now() + this.options.timeoutMs },
          (err: grpc.ServiceError | null) => {
            if (!err) return resolve({ status: 200, bytesIn });
            resolve({ status: httpStatusOf(err.code), bytesIn, error: grpcErrorKind(err), message: `${grpcCodeName(err.code)}: ${cleanDetails(err.details)}`.slice(0, 300) });
          },
        );
      } catch (err) {
        resolve({ status: 0, bytesIn, error: 'other', message: (err as Error).message });
      }
    });
  }

  /** Calls once and returns the answer's bytes, or the gRPC error (for metadata). */
  call(body: Buffer): Promise<Buffer> {
    const channel = this.channels[0]!;
    return new Promise<Buffer>((resolve, reject) => {
      channel.makeUnaryRequest(this.path, identity, identity, body, grpcMetadata(this.security), { deadline: Date.now() + this.options.timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res!),
      );
    });
  }

  async close(): Promise<void> {
    for (const c of this.channels) c.close();
  }
}
