// The gRPC Predict codec written by hand (src/core/wire/predict-request-reader.ts, predict-response-writer.ts) held to
// the protobufjs path it replaces, on generated messages: whatever the reader takes on gives the same ModelSpec,
// output_filter, HostTensors and errors as protobufjs + decodePredictInputs; whatever it does not take on (and every
// message protobufjs refuses) it leaves to protobufjs; the writer's bytes are protobufjs' bytes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { decodePlain, protoType } from '../../src/core/proto/schema.js';
import { servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';
import { decodePredictInputs } from '../../src/core/wire/predict-proto.js';
import { decodeWireInputs, readPredictRequest } from '../../src/core/wire/predict-request-reader.js';
import { encodePredictResponse, PredictReply, writePredictResponse, type ReplySpec } from '../../src/core/wire/predict-response-writer.js';
import type { RequestLimits } from '../../src/core/wire/signature-check.js';
import { hostToTensorProtoField } from '../../src/core/wire/tensor-field.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LIMITS: RequestLimits = { maxElements: 64 };
const SERVING = 'tensorflow_serving.proto';
const NAMES: Record<number, string> = { 1: 'DT_FLOAT', 2: 'DT_DOUBLE', 3: 'DT_INT32', 4: 'DT_UINT8', 7: 'DT_STRING', 9: 'DT_INT64', 10: 'DT_BOOL', 19: 'DT_HALF' };

/** How a generated tensor's values travel. */
type Form = 'packed' | 'unpacked' | 'split' | 'content' | 'content-wrong-length';

interface GenTensor {
  dtype: number;
  dims: number[];
  unknownRank: boolean;
  namedDims: boolean;
  values: unknown[];
  form: Form;
  shapeLast: boolean;
  unknownField: boolean;
  versionNumber: boolean;
}

interface GenRequest {
  spec: { name?: string; version?: number; signatureName?: string; versionLabel?: string } | undefined;
  inputs: [string, GenTensor][];
  outputFilter: string[];
  unknownTopField: boolean;
  clientId: boolean;
  sigShape: 'null' | 'exact' | 'batch' | 'other';
  sigDtypeWrong: boolean;
  mutation: { kind: 'none' } | { kind: 'truncate'; at: number } | { kind: 'flip'; at: number; xor: number };
}

const valuesOf = (dtype: number): fc.Arbitrary<unknown[]> => {
  switch (dtype) {
    case 1:
    case 19:
      return fc.array(fc.float(), { maxLength: 10 });
    case 2:
      return fc.array(fc.double(), { maxLength: 10 });
    case 3:
    case 4:
      return fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 10 });
    case 9:
      return fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 10 });
    case 10:
      return fc.array(fc.boolean(), { maxLength: 10 });
    default:
      return fc.array(fc.uint8Array({ maxLength: 5 }), { maxLength: 10 });
  }
};

const genTensor: fc.Arbitrary<GenTensor> = fc.constantFrom(1, 1, 1, 2, 3, 4, 7, 9, 10, 19).chain((dtype) =>
  fc.record({
    dtype: fc.constant(dtype),
    dims: fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 40, 2 ** 50) }), { maxLength: 3 }),
    unknownRank: fc.boolean().map((b) => b && Math.random() < 0.2),
    namedDims: fc.boolean(),
    values: valuesOf(dtype),
    form: fc.constantFrom<Form>('packed', 'packed', 'unpacked', 'split', 'content', 'content-wrong-length'),
    shapeLast: fc.boolean(),
    unknownField: fc.integer({ min: 0, max: 9 }).map((i) => i === 0),
    versionNumber: fc.boolean(),
  }),
);

const genRequest: fc.Arbitrary<GenRequest> = fc.record({
  spec: fc.option(
    fc.record(
      { name: fc.constantFrom('m', '', 'modèle'), version: fc.constantFrom(0, 1, 123, 2 ** 40), signatureName: fc.constantFrom('', 'serving_default', 'sig'), versionLabel: fc.constantFrom('stable', '') },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  ),
  inputs: fc.array(fc.tuple(fc.constantFrom('x', 'y', '0', '10', 'é', ''), genTensor), { maxLength: 3 }),
  outputFilter: fc.array(fc.constantFrom('out', 'é', ''), { maxLength: 2 }),
  unknownTopField: fc.integer({ min: 0, max: 14 }).map((i) => i === 0),
  clientId: fc.integer({ min: 0, max: 14 }).map((i) => i === 0),
  sigShape: fc.constantFrom('null', 'exact', 'batch', 'other'),
  sigDtypeWrong: fc.integer({ min: 0, max: 9 }).map((i) => i === 0),
  mutation: fc.oneof(
    { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  ),
});

/** The element bytes of `values` as tensor_content. */
function contentOf(dtype: number, values: unknown[]): Uint8Array {
  const arr =
    dtype === 1
      ? Float32Array.from(values as number[])
      : dtype === 2
        ? Float64Array.from(values as number[])
        : dtype === 9
          ? BigInt64Array.from(values as bigint[])
          : dtype === 10
            ? Uint8Array.from(values as boolean[], (b) => (b ? 1 : 0))
            : dtype === 4
              ? Uint8Array.from(values as number[])
              : dtype === 19
                ? Uint16Array.from(values as number[])
                : Int32Array.from(values as number[]);
  return new Uint8Array(arr.buffer);
}

/** Writes one value of a list field; `packed`: inside a packed run (no tag). */
function writeValue(w: protobuf.Writer, dtype: number, v: unknown, packed: boolean): void {
  const field = { 1: 5, 2: 6, 3: 7, 4: 7, 7: 8, 9: 10, 10: 11, 19: 13 }[dtype]!;
  const wire = dtype === 1 ? 5 : dtype === 2 ? 1 : dtype === 7 ? 2 : 0;
  if (!packed) w.uint32((field << 3) | wire);
  if (dtype === 1) w.float(v as number);
  else if (dtype === 2) w.double(v as number);
  else if (dtype === 9) w.int64((v as bigint).toString() as unknown as number);
  else if (dtype === 10) w.bool(v as boolean);
  else if (dtype === 7) w.bytes(v as Uint8Array);
  else w.int32(v as number);
}

function writeTensor(w: protobuf.Writer, t: GenTensor): void {
  const shape = () => {
    w.uint32(18).fork();
    for (const d of t.dims) {
      w.uint32(18).fork();
      if (d !== 0) w.uint32(8).int64(d);
      if (t.namedDims) w.uint32(18).string('d');
      w.ldelim();
    }
    if (t.unknownRank) w.uint32(24).bool(true);
    w.ldelim();
  };
  w.uint32(8).int32(t.dtype);
  if (!t.shapeLast) shape();
  if (t.versionNumber) w.uint32(24).int32(0);
  const field = { 1: 5, 2: 6, 3: 7, 4: 7, 7: 8, 9: 10, 10: 11, 19: 13 }[t.dtype]!;
  if (t.form === 'content' || t.form === 'content-wrong-length') {
    const c = contentOf(t.dtype, t.values);
    w.uint32(34).bytes(t.form === 'content' ? c : c.subarray(1));
  } else if (t.form === 'unpacked' || t.dtype === 7) {
    for (const v of t.values) writeValue(w, t.dtype, v, false);
  } else {
    const cut = t.form === 'split' ? t.values.length >> 1 : t.values.length;
    for (const part of [t.values.slice(0, cut), t.values.slice(cut)]) {
      if (part.length === 0) continue;
      w.uint32((field << 3) | 2).fork();
      for (const v of part) writeValue(w, t.dtype, v, true);
      w.ldelim();
    }
  }
  if (t.unknownField) w.uint32((30 << 3) | 0).uint32(7);
  if (t.shapeLast) shape();
}

function encodeRequest(r: GenRequest): Buffer {
  const w = protobuf.Writer.create();
  if (r.spec) {
    w.uint32(10).fork();
    if (r.spec.name !== undefined) w.uint32(10).string(r.spec.name);
    if (r.spec.version !== undefined) w.uint32(18).fork().uint32(8).int64(r.spec.version).ldelim();
    if (r.spec.signatureName !== undefined) w.uint32(26).string(r.spec.signatureName);
    if (r.spec.versionLabel !== undefined) w.uint32(34).string(r.spec.versionLabel);
    w.ldelim();
  }
  for (const [alias, t] of r.inputs) {
    w.uint32(18).fork().uint32(10).string(alias).uint32(18).fork();
    writeTensor(w, t);
    w.ldelim().ldelim();
  }
  for (const f of r.outputFilter) w.uint32(26).string(f);
  if (r.unknownTopField) w.uint32((9 << 3) | 2).bytes(new Uint8Array([1, 2]));
  if (r.clientId) w.uint32(50).bytes(new Uint8Array([7]));
  let bytes = Buffer.from(w.finish());
  const m = r.mutation;
  if (m.kind === 'truncate' && bytes.length > 0) bytes = bytes.subarray(0, m.at % bytes.length);
  if (m.kind === 'flip' && bytes.length > 0) {
    bytes = Buffer.from(bytes);
    bytes[m.at % bytes.length]! ^= m.xor;
  }
  return bytes;
}

/** A signature over the request's aliases, shaped to pass or to fail the check in the ways it can. */
function signatureFor(r: GenRequest): SignatureInfo {
  const inputs: SignatureInfo['inputs'] = {};
  for (const [alias, t] of r.inputs) {
    const shape = r.sigShape === 'null' ? null : r.sigShape === 'exact' ? t.dims.map((d) => Math.max(d, 0)) : r.sigShape === 'batch' ? [-1, ...t.dims.slice(1).map((d) => Math.max(d, 0))] : [3, -1];
    inputs[alias] = { name: `${alias}:0`, dtype: r.sigDtypeWrong ? 'DT_FLOAT' : NAMES[t.dtype]!, shape };
  }
  if (r.inputs.length === 0) inputs.x = { name: 'x:0', dtype: 'DT_FLOAT', shape: null };
  return { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs, outputs: {} };
}

type Outcome = { ok: Record<string, HostTensor> } | { err: string };

function outcome(fn: () => Record<string, HostTensor>): Outcome {
  try {
    return { ok: fn() };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { err: `${err.constructor.name} ${err.code ?? ''} ${err.message}` };
  }
}

/** Equal tensors: keys in the same order, dtypes, shapes, values (Object.is: NaN equals NaN, -0 is not 0). */
function assertSameTensors(got: Record<string, HostTensor>, want: Record<string, HostTensor>): void {
  assert.deepEqual(Object.keys(got), Object.keys(want));
  for (const k of Object.keys(want)) {
    const g = got[k]!;
    const w = want[k]!;
    assert.equal(g.dtype, w.dtype);
    assert.deepEqual(g.shape, w.shape);
    assert.equal(g.data.constructor, w.data.constructor, `input ${k}: array type`);
    assert.equal(g.data.length, w.data.length);
    for (let i = 0; i < w.data.length; i++) {
      const a = (g.data as ArrayLike<unknown>)[i];
      const b = (w.data as ArrayLike<unknown>)[i];
      if (a instanceof Uint8Array) assert.ok(Buffer.from(a).equals(Buffer.from(b as Uint8Array)), `input ${k}[${i}]`);
      else assert.ok(Object.is(a, b), `input ${k}[${i}]: ${String(a)} vs ${String(b)}`);
    }
  }
}

describe('gRPC Predict codec: the request reader against protobufjs', () => {
  test('generated requests (dtypes, shapes, packed/unpacked/split/content, NaN/-0/Inf, empty, unknown fields, truncated, flipped) read the same or are left to protobufjs', () => {
    let fast = 0;
    let clean = 0;
    fc.assert(
      fc.property(genRequest, (r) => {
        const bytes = encodeRequest(r);
        let plain: Plain;
        try {
          plain = decodePlain('tensorflow.serving.PredictRequest', bytes, SERVING);
        } catch (e) {
          // protobufjs refuses it: the reader must leave it, so the server reports protobufjs' own error.
          assert.equal(readPredictRequest(bytes), undefined);
          const deserialize = servingServiceDefinitions().prediction.Predict!.requestDeserialize as (b: Buffer) => unknown;
          assert.throws(() => deserialize(bytes), { message: (e as Error).message });
          return;
        }
        if (r.mutation.kind === 'none') clean++;
        const view = readPredictRequest(bytes);
        if (!view) return;
        if (r.mutation.kind === 'none') fast++;
        assert.deepEqual(view.modelSpec, plain.modelSpec);
        assert.deepEqual(view.outputFilter, plain.outputFilter);
        const sig = signatureFor(r);
        const want = outcome(() => decodePredictInputs(plain.inputs ?? {}, sig, LIMITS));
        const got = outcome(() => decodeWireInputs(view, sig, LIMITS));
        if ('err' in want) assert.deepEqual(got, want);
        else {
          assert.ok('ok' in got, `reader failed where protobufjs passed: ${'err' in got ? got.err : ''}`);
          assertSameTensors(got.ok, want.ok);
        }
      }),
      { numRuns: 3000 },
    );
    // The fast path must carry the common requests, not fall back on everything.
    assert.ok(fast > clean * 0.25, `only ${fast} of ${clean} well-formed requests were read by the fast path`);
  });

  test('the usual request (ModelSpec, one DT_FLOAT input, packed float_val) is read by the fast path into a Float32Array', () => {
    const type = protoType('tensorflow.serving.PredictRequest', SERVING);
    const values = Array.from({ length: 784 }, (_, i) => (i % 7) / 7);
    const bytes = Buffer.from(
      type.encode(type.fromObject({ modelSpec: { name: 'mnist', signatureName: 'serving_default' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 28 }, { size: 28 }, { size: 1 }] }, floatVal: values } } })).finish(),
    );
    const view = readPredictRequest(bytes);
    assert.ok(view, 'the fast path must take it');
    assert.deepEqual(view.modelSpec, { name: 'mnist', signatureName: 'serving_default' });
    const sig: SignatureInfo = { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 28, 28, 1] } }, outputs: {} };
    const x = decodeWireInputs(view, sig).x!;
    assert.ok(x.data instanceof Float32Array);
    assert.deepEqual(Array.from(x.data as Float32Array), values.map(Math.fround));
    // The tensor owns its values: changing the message afterwards does not change them.
    bytes.fill(0);
    assert.equal((x.data as Float32Array)[1], Math.fround(1 / 7));
  });

  test("the 34-byte request declaring 2^40 elements is refused by the check before anything is allocated", () => {
    const huge = Buffer.from('0a060a0468616c6612180a01781213080112091207088080808080202a040000803f', 'hex');
    assert.equal(huge.length, 34);
    const view = readPredictRequest(huge);
    assert.ok(view, 'the fast path reads it (a known shape within its range)');
    const sig: SignatureInfo = { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] } }, outputs: {} };
    // A Float32Array of 2^40 elements cannot be made: a RangeError would show an allocation came first.
    assert.throws(() => decodeWireInputs(view, sig), {
      name: 'RequestError',
      message: 'input "x": shape [1099511627776] brings the request to 1099511627776 elements, more than the limit of 67108864 (--max_request_elements)',
    });
    const plain = decodePlain<Plain>('tensorflow.serving.PredictRequest', huge, SERVING);
    assert.throws(() => decodePredictInputs(plain.inputs, sig), { message: /brings the request to 1099511627776 elements/ });
  });

  test('requests the reader does not take on are left to protobufjs: a Uint8Array, client_id, a DT_HALF input', () => {
    const type = protoType('tensorflow.serving.PredictRequest', SERVING);
    const enc = (v: Plain) => Buffer.from(type.encode(type.fromObject(v)).finish());
    const base = { modelSpec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }] }, floatVal: [1] } } };
    assert.ok(readPredictRequest(enc(base)));
    assert.equal(readPredictRequest(new Uint8Array(enc(base))), undefined);
    assert.equal(readPredictRequest(enc({ ...base, clientId: Buffer.from('c') })), undefined);
    assert.equal(readPredictRequest(enc({ ...base, inputs: { x: { dtype: 'DT_HALF', tensorShape: { dim: [{ size: 1 }] }, halfVal: [15360] } } })), undefined);
    // ... and the definition's deserializer then gives protobufjs' plain object.
    const deserialize = servingServiceDefinitions().prediction.Predict!.requestDeserialize as (b: Buffer) => Plain;
    assert.deepEqual(deserialize(enc({ ...base, clientId: Buffer.from('c') })).inputs.x.floatVal, [1]);
  });
});

// --- the response writer -----------------------------------------------------------------------------------------

const OUT_DTYPES = ['DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_INT8', 'DT_UINT8', 'DT_INT16', 'DT_UINT16', 'DT_INT64', 'DT_BOOL', 'DT_STRING', 'DT_FLOAT_REF', 'DT_HALF', 'DT_UINT32', 'DT_UINT64'] as const;

/** A typed array holding `vals`, sometimes as a view at an odd offset into a larger buffer. */
function viewOf<A extends { buffer: ArrayBufferLike; length: number; set(a: ArrayLike<any>): void }>( // eslint-disable-line @typescript-eslint/no-explicit-any
  make: (buf: ArrayBuffer, offset: number, length: number) => A,
  size: number,
  vals: ArrayLike<unknown>,
  shifted: boolean,
): A {
  const offset = shifted ? size * 3 : 0;
  const a = make(new ArrayBuffer(offset + size * vals.length + size), offset, vals.length);
  a.set(vals as ArrayLike<never>);
  return a;
}

const hostTensor: fc.Arbitrary<HostTensor> = fc
  .record({ dtype: fc.constantFrom(...OUT_DTYPES), dims: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), shifted: fc.boolean(), nan: fc.integer({ min: 0, max: 5 }) })
  .chain(({ dtype, dims, shifted, nan }) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const floats = fc.array(nan === 0 ? fc.float() : fc.float({ noNaN: true }), { minLength: n, maxLength: n });
    const data: fc.Arbitrary<HostTensor['data']> = (() => {
      switch (dtype) {
        case 'DT_FLOAT':
        case 'DT_FLOAT_REF':
        case 'DT_HALF':
          return floats.map((v) => viewOf((b, o, l) => new Float32Array(b, o, l), 4, v, shifted));
        case 'DT_DOUBLE':
          return fc.array(nan === 0 ? fc.double() : fc.double({ noNaN: true }), { minLength: n, maxLength: n }).map((v) => viewOf((b, o, l) => new Float64Array(b, o, l), 8, v, shifted));
        case 'DT_INT64':
          return fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n }).map((v) => viewOf((b, o, l) => new BigInt64Array(b, o, l), 8, v, shifted));
        case 'DT_UINT64':
          return fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: n, maxLength: n }).map((v) => BigUint64Array.from(v));
        case 'DT_UINT32':
          return fc.array(fc.nat(), { minLength: n, maxLength: n }).map((v) => Uint32Array.from(v));
        case 'DT_BOOL':
          return fc.array(fc.constantFrom(0, 1, 1, 2), { minLength: n, maxLength: n }).map((v) => viewOf((b, o, l) => new Uint8Array(b, o, l), 1, v, shifted));
        case 'DT_STRING':
          return fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: n, maxLength: n }).map((v) => v.map((s) => (shifted ? new Uint8Array([9, ...s]).subarray(1) : s)));
        default:
          return fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }).map((v) => viewOf((b, o, l) => new Int32Array(b, o, l), 4, v, shifted));
      }
    })();
    return data.map((d) => ({ dtype, shape: dims, data: d }));
  });

const replySpec: fc.Arbitrary<ReplySpec> = fc.record(
  { name: fc.constantFrom('m', 'mnist', 'modèle', ''), version: fc.record({ value: fc.constantFrom(0, 1, 123, 2 ** 40, 2 ** 53 - 1) }), signatureName: fc.constantFrom('serving_default', '', 'sïg') },
  { requiredKeys: ['name', 'version'] },
);

describe('gRPC Predict codec: the response writer against protobufjs', () => {
  test('generated outputs (every dtype, empty and scalar tensors, NaN/-0/Inf, int64 extremes, offsets into buffers) encode to the same bytes', () => {
    const type = protoType('tensorflow.serving.PredictResponse', SERVING);
    let fast = 0;
    let runs = 0;
    fc.assert(
      fc.property(replySpec, fc.dictionary(fc.constantFrom('y', 'scores', '0', '10', 'é', ''), hostTensor, { maxKeys: 3 }), (spec, outputs) => {
        runs++;
        // What the Predict handler sent before: hostToTensorProtoField for each output, then fromObject + encode.
        const protoOutputs: Plain = {};
        for (const alias of Object.keys(outputs)) protoOutputs[alias] = hostToTensorProtoField(outputs[alias]!);
        const want = Buffer.from(type.encode(type.fromObject({ modelSpec: spec, outputs: protoOutputs })).finish());
        const reply = new PredictReply(spec, outputs);
        if (writePredictResponse(reply)) fast++;
        const got = encodePredictResponse(reply);
        assert.equal(got.toString('hex'), want.toString('hex'));
      }),
      { numRuns: 2000 },
    );
    assert.ok(fast > runs * 0.25, `only ${fast} of ${runs} replies were written by the fast path`);
  });

  test('a 10-class float reply is written by the fast path, and protobufjs decodes it to the same values', () => {
    const scores = Float32Array.from([0.1, -0, Infinity, -Infinity, 1e-45, 3.4e38, 0.5, 0.25, 0.125, 1]);
    const reply = new PredictReply({ name: 'mnist', version: { value: 7 }, signatureName: 'serving_default' }, { output_0: { dtype: 'DT_FLOAT', shape: [1, 10], data: scores } });
    const bytes = writePredictResponse(reply);
    assert.ok(bytes);
    const back = decodePlain<Plain>('tensorflow.serving.PredictResponse', bytes, SERVING);
    assert.deepEqual(back.modelSpec, { name: 'mnist', version: { value: 7 }, signatureName: 'serving_default' });
    assert.deepEqual(back.outputs.output_0.floatVal, Array.from(scores));
    assert.ok(Object.is(back.outputs.output_0.floatVal[1], -0));
  });
});
