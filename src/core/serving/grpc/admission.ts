// Admission control for gRPC inference calls (Predict, Classify, Regress, MultiInference), decided before the request
// message is decoded. grpc-js hands a handler an already-deserialized message, and decoding a large PredictRequest
// (its float_val lists) is most of a rejected call's cost, so the server registers these methods with a pass-through
// deserializer and this wrapper: it reads only the ModelSpec (field 1; MultiInference: its first task's) by skipping
// over the other top-level fields, asks the shared Admission (queue room for the version and signature named;
// in-flight bytes), and only then decodes the message and calls the real handler. Turned-away calls get UNAVAILABLE (queue full, TF Serving's batcher code)
// or RESOURCE_EXHAUSTED (in-flight byte budget). Messages over --max_body_bytes never get here: grpc-js refuses them
// with RESOURCE_EXHAUSTED ("Received message larger than max").
// On the node:http2 server (h2-server.ts) the same decision is taken earlier, from the message's first bytes
// (EARLY_ADMISSION): a refused call is answered before the rest of its message is sent, as REST refuses before the
// body, and charged its announced length when admitted.
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { RequestError } from '../../errors.js';
import { PLAIN, protoRoot } from '../../proto/schema.js';
import type { Admission, AdmissionTarget, AdmissionTicket } from '../admission.js';
import type { ServableLookup, VersionSelector } from '../types.js';
import { peekLeadingModelSpec, peekModelSpec } from '../../wire/predict-request-reader.js';
import { EARLY_ADMISSION, type EarlyAdmission } from './h2-server.js';

const GUARDED = new Set(['Predict', 'Classify', 'Regress', 'MultiInference']);

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The ModelSpec of a serialized request (field 1, or field 1 of field 1 when `nested`: MultiInference's first task);
 * undefined when absent or unreadable. Read by hand (wire/predict-request-reader.ts: every call pays this, and a
 * protobufjs decode of the spec was a Reader, a message object and a toObject per call); what the hand reader leaves
 * (repeated specs, unknown fields, malformed bytes) is decoded with protobufjs as before.
 */
function modelSpecOf(bytes: Uint8Array, nested: boolean, specType: protobuf.Type): Plain | undefined {
  const hand = peekModelSpec(bytes, nested);
  if (hand !== undefined) return hand ?? undefined;
  try {
    let r = protobuf.Reader.create(bytes);
    let spec: Plain | undefined;
    for (let depth = nested ? 2 : 1; depth > 0; depth--) {
      spec = undefined;
      while (r.pos < r.len) {
        const tag = r.uint32();
        if (tag >>> 3 === 1 && (tag & 7) === 2) {
          const inner = r.bytes();
          if (depth === 1) spec = specType.toObject(specType.decode(inner), PLAIN);
          else r = protobuf.Reader.create(inner);
          break;
        }
        r.skipType(tag & 7);
      }
    }
    return spec;
  } catch {
    return undefined; // malformed: the full decode reports it
  }
}

function targetOf(spec: Plain | undefined, lookup: ServableLookup): AdmissionTarget | undefined {
  if (!spec?.name) return undefined;
  let selector: VersionSelector | undefined;
  if (spec.version) selector = { version: Number(spec.version.value ?? 0) };
  else if (spec.versionLabel !== undefined) selector = { label: spec.versionLabel };
  try {
    const h = lookup.acquire(spec.name, selector);
    const version = h.version;
    h.release();
    return { model: spec.name, version, signature: spec.signatureName || 'serving_default' };
  } catch {
    return undefined; // the handler answers NOT_FOUND
  }
}

/**
 * `definition` and `implementation` with the inference methods guarded by `admission`. `toStatus` turns an error into
 * the call's status (the server's RequestError mapping).
 */
export function guardInference(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
  opts: { admission: Admission; lookup: ServableLookup; toStatus: (err: unknown) => Partial<grpc.StatusObject> },
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const specType = protoRoot('tensorflow_serving.proto').lookupType('tensorflow.serving.ModelSpec');
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const impl: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, m] of Object.entries(definition)) {
    const handler = implementation[name] as grpc.handleUnaryCall<Plain, Plain> | undefined;
    if (!GUARDED.has(name) || !handler || m.requestStream || m.responseStream) {
      def[name] = m;
      continue;
    }
    const nested = name === 'MultiInference';
    const early: EarlyAdmission = (prefix, announced) => {
      const spec = peekLeadingModelSpec(prefix, nested);
      if (!spec) return undefined;
      try {
        return { admitted: opts.admission.admit(announced, targetOf(spec, opts.lookup)) };
      } catch (err) {
        const s = opts.toStatus(err);
        return { refused: { code: s.code ?? 2 /* UNKNOWN */, details: s.details ?? String(err) } };
      }
    };
    def[name] = { ...m, requestDeserialize: (b: Buffer) => b, [EARLY_ADMISSION]: early } as grpc.MethodDefinition<unknown, unknown>;
    impl[name] = ((call: grpc.ServerUnaryCall<Plain, Plain> & { admitted?: AdmissionTicket }, callback: grpc.sendUnaryData<Plain>) => {
      const raw = call.request as unknown as Buffer;
      let ticket: AdmissionTicket;
      if (call.admitted) {
        // Admitted from the message's first bytes (h2-server.ts): this handler now owns the ticket.
        ticket = call.admitted;
        call.admitted = undefined;
      } else {
        try {
          ticket = opts.admission.admit(raw.length, targetOf(modelSpecOf(raw, nested, specType), opts.lookup));
        } catch (err) {
          callback(opts.toStatus(err));
          return;
        }
      }
      try {
        (call as { request: unknown }).request = m.requestDeserialize(raw);
      } catch (err) {
        ticket.release();
        callback(opts.toStatus(new RequestError('INVALID_ARGUMENT', `Could not parse the request message: ${(err as Error).message}`)));
        return;
      }
      handler(call, (err, value, trailer, flags) => {
        ticket.release();
        callback(err, value, trailer, flags);
      });
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
  return { definition: def, implementation: impl };
}
