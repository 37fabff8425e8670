// Property-based fuzz (fast-check) over the request decoders and the request-vs-signature check: whatever a client
// sends, decoding + checking ends in a result or a RequestError (never another exception, never an allocation beyond
// the element cap), and every valid request a generator builds decodes back to exactly the tensors it was built from.
// Thousands of cases in a few seconds; a failure prints fast-check's seed and shrunk counterexample.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { HostTensor, SignatureInfo, TensorSpec } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import { servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';
import { decodeExamplesRequest } from '../../src/core/wire/example-json.js';
import { checkJsonSyntax, parseJsonBody, parsePrecise } from '../../src/core/wire/json-parse.js';
import { decodePredictJson } from '../../src/core/wire/predict-json.js';
import { decodePredictInputs } from '../../src/core/wire/predict-proto.js';
import { checkHeaders, checkInputs, shapeCompatible, shapeElements, type RequestLimits } from '../../src/core/wire/signature-check.js';

/** A small cap, so generated requests cross it often. */
const LIMITS: RequestLimits = { maxElements: 4096 };
const RUNS = { numRuns: 1000 };

/** Runs `fn`; any throw but RequestError fails the property. */
function onlyRequestErrors<T>(fn: () => T): T | RequestError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RequestError) return e;
    throw e;
  }
}

const DTYPES = ['DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_INT64', 'DT_BOOL', 'DT_STRING'] as const;
type DType = (typeof DTYPES)[number];

/** A value of `dtype`, as the decoder's typed array holds it (float32 values are exact float32s). */
function valueOf(dtype: DType): fc.Arbitrary<number | bigint | boolean | string> {
  switch (dtype) {
    case 'DT_FLOAT':
      return fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));
    case 'DT_DOUBLE':
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));
    case 'DT_INT32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'DT_INT64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'DT_BOOL':
      return fc.boolean();
    case 'DT_STRING':
      return fc.string({ maxLength: 6 });
  }
}

/** `values` (flat, row-major) as nested lists of `shape`, as JSON text (int64 digits written exactly). */
function nestJson(values: unknown[], shape: number[], dtype: DType): string {
  const leaf = (v: unknown): string => {
    if (typeof v === 'bigint') return v.toString();
    if ((dtype === 'DT_FLOAT' || dtype === 'DT_DOUBLE') && Number.isInteger(v)) return `${v}.0`.replace('e+', 'e').replace(/e(\d+)\.0$/, 'e$1');
    return JSON.stringify(v);
  };
  let i = 0;
  const walk = (d: number): string => {
    if (d === shape.length) return leaf(values[i++]);
    const parts: string[] = [];
    for (let k = 0; k < shape[d]!; k++) parts.push(walk(d + 1));
    return `[${parts.join(',')}]`;
  };
  return walk(0);
}

function hostValues(t: HostTensor): unknown[] {
  if (Array.isArray(t.data)) return t.data.map((b) => Buffer.from(b).toString('utf8'));
  if (t.dtype === 'DT_BOOL') return Array.from(t.data as Uint8Array, (b) => b !== 0);
  return Array.from(t.data as ArrayLike<number | bigint>);
}

const expected = (dtype: DType, vs: unknown[]) => (dtype === 'DT_FLOAT' ? vs.map((v) => Math.fround(v as number)) : vs);

interface ValidCase {
  sig: SignatureInfo;
  dtype: DType;
  batch: number;
  inner: number[];
  values: unknown[];
  row: boolean;
}

/** A one-input signature [-1, ...inner] and a request that fits it, in row or columnar form. */
const validCase: fc.Arbitrary<ValidCase> = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    batch: fc.integer({ min: 1, max: 3 }),
    inner: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    row: fc.boolean(),
  })
  .chain(({ dtype, batch, inner, row }) =>
    fc.array(valueOf(dtype), { minLength: batch * shapeElements(inner), maxLength: batch * shapeElements(inner) }).map((values) => ({
      sig: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype, shape: [-1, ...inner] } }, outputs: {} },
      dtype,
      batch,
      inner,
      values,
      row,
    })),
  );

function bodyOf(c: ValidCase): string {
  const tensor = nestJson(c.values, [c.batch, ...c.inner], c.dtype);
  return c.row ? `{"instances": ${tensor}}` : `{"inputs": {"x": ${tensor}}}`;
}

describe('fuzz: REST :predict JSON decoder + signature check', () => {
  test('valid generated requests (row and columnar, every dtype) decode back exactly and pass the check', () => {
    fc.assert(
      fc.property(validCase, (c) => {
        const body = Buffer.from(bodyOf(c));
        const r = decodePredictJson(body, { serving_default: c.sig });
        checkInputs(r.signature, r.inputs, LIMITS, body.length);
        const x = r.inputs.x!;
        assert.deepEqual(x.shape, [c.batch, ...c.inner]);
        assert.deepEqual(hostValues(x), expected(c.dtype, c.values));
        assert.equal(r.format, c.row ? 'row' : 'columnar');
      }),
      RUNS,
    );
  });

  test('corrupted bodies end in a tensor that passes the check or a RequestError, nothing else', () => {
    const corrupted = fc.tuple(validCase, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'dup')), { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(corrupted, ([c, edits]) => {
        let b = Buffer.from(bodyOf(c));
        for (const [pos, byte, op] of edits) {
          const at = pos % (b.length + 1);
          if (op === 'set' && at < b.length) b[at] = byte;
          else if (op === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
          else b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 8), b.subarray(at)]);
        }
        const r = onlyRequestErrors(() => {
          const d = decodePredictJson(b, { serving_default: c.sig });
          checkInputs(d.signature, d.inputs, LIMITS, b.length);
          return d;
        });
        if (!(r instanceof RequestError)) {
          const x = r.inputs.x!;
          assert.ok(shapeCompatible(c.sig.inputs.x!, x.shape));
          assert.equal(x.data.length, shapeElements(x.shape));
          assert.ok(x.data.length <= LIMITS.maxElements);
        }
      }),
      RUNS,
    );
  });

  test('the syntax check (large bodies broken near their end) gives exactly the error of the precise parse, or none', () => {
    const mutated = fc.tuple(fc.json(), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...'{}[],:"\\ 0-.eEtfnNI'.split('')), fc.constantFrom('set', 'cut', 'add')), { maxLength: 3 }));
    fc.assert(
      fc.property(mutated, ([text, edits]) => {
        let t = text;
        for (const [pos, ch, op] of edits) {
          const at = pos % (t.length + 1);
          t = op === 'set' ? t.slice(0, at) + ch + t.slice(at + 1) : op === 'cut' ? t.slice(0, at) + t.slice(at + 1) : t.slice(0, at) + ch + t.slice(at);
        }
        const message = (fn: () => unknown) => {
          try {
            fn();
            return 'accepted';
          } catch (e) {
            assert.ok(e instanceof RequestError, String(e));
            return `${e.code}: ${e.message}`;
          }
        };
        assert.equal(message(() => checkJsonSyntax(t)), message(() => parsePrecise(t)), t);
      }),
      RUNS,
    );
  });

  test('a large :predict body broken at its end gets the error of the parser for that offset', () => {
    const row = `[${Array.from({ length: 784 }, (_, i) => ((i % 10) / 10).toFixed(1)).join(',')}]`;
    const text = `{"instances": [${Array.from({ length: 600 }, () => row).join(',')}]`; // no closing brace
    assert.ok(text.length >= 1 << 20);
    const sigs = { serving_default: { key: 'serving_default', methodName: '', inputs: { x: { name: 'x', dtype: 'DT_FLOAT', shape: [-1, 784] } }, outputs: {} } } satisfies Record<string, SignatureInfo>;
    // The syntax check answers it: JSON.parse, which would build the whole document before failing, is never called.
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = ((...a: Parameters<typeof parse>) => (parsed++, parse(...a))) as typeof parse;
    try {
      assert.throws(() => decodePredictJson(Buffer.from(text), sigs), {
        code: 'INVALID_ARGUMENT',
        message: `JSON Parse error: Missing a comma or '}' after an object member. at offset: ${text.length}`,
      });
    } finally {
      JSON.parse = parse;
    }
    assert.equal(parsed, 0, 'JSON.parse ran on the broken body');
  });

  test('arbitrary JSON documents end in a result or a RequestError', () => {
    const sigs = {
      serving_default: { key: 'serving_default', methodName: '', inputs: { a: { name: 'a', dtype: 'DT_FLOAT', shape: [-1, 2] }, b: { name: 'b', dtype: 'DT_INT64', shape: [-1] } }, outputs: {} },
      s: { key: 's', methodName: '', inputs: { x: { name: 'x', dtype: 'DT_STRING', shape: null } }, outputs: {} },
    } satisfies Record<string, SignatureInfo>;
    const doc = fc.oneof(
      fc.json(),
      fc.record({ instances: fc.jsonValue(), signature_name: fc.constantFrom('s', 'serving_default', 'nope') }, { requiredKeys: ['instances'] }),
      fc.record({ inputs: fc.jsonValue() }),
    );
    fc.assert(
      fc.property(doc, (d) => {
        const b = Buffer.from(typeof d === 'string' ? d : JSON.stringify(d));
        const r = onlyRequestErrors(() => {
          const out = decodePredictJson(b, sigs);
          checkInputs(out.signature, out.inputs, LIMITS, b.length);
          return out;
        });
        if (!(r instanceof RequestError)) for (const t of Object.values(r.inputs)) assert.equal(t.data.length, shapeElements(t.shape));
      }),
      RUNS,
    );
  });
});

describe('fuzz: REST :classify/:regress examples decoder', () => {
  type Feature = { kind: 'int'; v: number[] } | { kind: 'float'; v: number[] } | { kind: 'bytes'; v: string[] };
  const feature: fc.Arbitrary<Feature> = fc.oneof(
    fc.record({ kind: fc.constant('int' as const), v: fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { minLength: 1, maxLength: 4 }) }),
    fc.record({
      kind: fc.constant('float' as const),
      v: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }).filter((x) => !Number.isInteger(x)), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('bytes' as const), v: fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }) }),
  );
  const example = fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), feature, { maxKeys: 4 });

  test('valid generated examples round-trip exactly into serialized tf.Examples', () => {
    fc.assert(
      fc.property(fc.array(example, { minLength: 1, maxLength: 4 }), (examples) => {
        const text = JSON.stringify({ examples: examples.map((e) => Object.fromEntries(Object.entries(e).map(([k, f]) => [k, f.v]))) });
        const req = decodeExamplesRequest(parseJsonBody(text));
        assert.equal(req.examples.length, examples.length);
        req.examples.forEach((bytes, i) => {
          const got = (decodePlain('tensorflow.Example', bytes) as { features?: { feature?: Record<string, Record<string, { value: unknown[] }>> } }).features?.feature ?? {};
          assert.deepEqual(Object.keys(got).sort(), Object.keys(examples[i]!).sort());
          for (const [k, f] of Object.entries(examples[i]!)) {
            if (f.kind === 'int') assert.deepEqual(got[k]!.int64List!.value.map(Number), f.v);
            else if (f.kind === 'float') assert.deepEqual(got[k]!.floatList!.value, f.v.map(Math.fround));
            else assert.deepEqual(got[k]!.bytesList!.value.map((b) => Buffer.from(b as Uint8Array).toString('utf8')), f.v);
          }
        });
        const sig: SignatureInfo = { key: 'c', methodName: 'tensorflow/serving/classify', inputs: { inputs: { name: 'in', dtype: 'DT_STRING', shape: [-1] } }, outputs: {} };
        checkInputs(sig, { inputs: { dtype: 'DT_STRING', shape: [req.examples.length], data: req.examples } }, LIMITS, text.length);
      }),
      { numRuns: 400 },
    );
  });

  test('arbitrary documents end in examples or a RequestError', () => {
    const doc = fc.oneof(fc.json(), fc.record({ examples: fc.jsonValue(), context: fc.jsonValue() }, { requiredKeys: ['examples'] }));
    fc.assert(
      fc.property(doc, (d) => {
        onlyRequestErrors(() => decodeExamplesRequest(parseJsonBody(typeof d === 'string' ? d : JSON.stringify(d))));
      }),
      RUNS,
    );
  });
});

describe('fuzz: gRPC PredictRequest decoder + signature check', () => {
  // The protobufjs path (the server's Predict reads most requests with wire/predict-request-reader.ts instead, which
  // test/wire/predict-codec.test.ts holds to this one).
  const deserialize = (b: Buffer) => decodePlain('tensorflow.serving.PredictRequest', b, 'tensorflow_serving.proto') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const serialize = servingServiceDefinitions().prediction.Predict!.requestSerialize as (v: unknown) => Buffer;
  const FIELD: Record<string, string> = { DT_FLOAT: 'floatVal', DT_DOUBLE: 'doubleVal', DT_INT32: 'intVal', DT_INT64: 'int64Val', DT_BOOL: 'boolVal', DT_STRING: 'stringVal' };
  const sigOf = (dtype: string, shape: number[] | null): SignatureInfo => ({
    key: 'serving_default',
    methodName: 'tensorflow/serving/predict',
    inputs: { x: { name: 'x:0', dtype, shape } },
    outputs: {},
  });

  test('valid generated requests, through the wire encoding, decode back exactly', () => {
    fc.assert(
      fc.property(validCase, (c) => {
        const field = FIELD[c.dtype]!;
        const vals = c.values.map((v) => (typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? Buffer.from(v) : v));
        const proto = { dtype: c.dtype, tensorShape: { dim: [c.batch, ...c.inner].map((size) => ({ size })) }, [field]: vals };
        const wire = serialize({ modelSpec: { name: 'm' }, inputs: { x: proto } });
        const req = deserialize(wire);
        const inputs = decodePredictInputs(req.inputs, c.sig, LIMITS, wire.length);
        assert.deepEqual(inputs.x!.shape, [c.batch, ...c.inner]);
        assert.deepEqual(hostValues(inputs.x!), expected(c.dtype, c.values));
      }),
      RUNS,
    );
  });

  const dim = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 2 ** 20, 2 ** 31, 2 ** 40, 2 ** 52), fc.integer({ min: -5, max: 100000 }));
  const anyProto = fc.record(
    {
      dtype: fc.constantFrom(...DTYPES, 'DT_HALF', 'DT_UINT8', 'DT_COMPLEX64', 'DT_RESOURCE', 'DT_INVALID'),
      tensorShape: fc.record({ dim: fc.array(fc.record({ size: dim }), { maxLength: 5 }), unknownRank: fc.boolean() }, { requiredKeys: ['dim'] }),
      floatVal: fc.array(fc.float(), { maxLength: 6 }),
      intVal: fc.array(fc.integer(), { maxLength: 6 }),
      int64Val: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), { maxLength: 4 }),
      boolVal: fc.array(fc.boolean(), { maxLength: 6 }),
      stringVal: fc.array(fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)), { maxLength: 4 }),
      scomplexVal: fc.array(fc.float(), { maxLength: 5 }),
      tensorContent: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    },
    { requiredKeys: [] },
  );

  test('arbitrary TensorProtos end in tensors within the cap that pass the check, or a RequestError, before allocating', () => {
    const sigShape = fc.oneof(fc.constant(null), fc.array(fc.constantFrom(-1, 1, 2, 3), { maxLength: 4 }));
    fc.assert(
      fc.property(anyProto, fc.constantFrom(...DTYPES), sigShape, fc.boolean(), (proto, sigDtype, shape, viaWire) => {
        let inputs = { x: proto } as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        if (viaWire) {
          const wire = serialize({ inputs });
          inputs = deserialize(wire).inputs ?? {};
        }
        const sig = sigOf(sigDtype, shape);
        const r = onlyRequestErrors(() => decodePredictInputs(inputs, sig, LIMITS));
        if (!(r instanceof RequestError)) {
          const x = r.x!;
          const perElement = x.dtype === 'DT_COMPLEX64' ? 2 : 1;
          assert.equal(x.data.length, shapeElements(x.shape) * perElement);
          assert.ok(shapeElements(x.shape) <= LIMITS.maxElements, `decoded ${x.shape} beyond the cap`);
          assert.ok(shapeCompatible(sig.inputs.x!, x.shape));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a value list declaring more elements than the cap is refused, whatever it holds', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2 ** 20 }), { minLength: 1, maxLength: 4 }), fc.array(fc.float(), { maxLength: 3 }), (dims, vals) => {
        fc.pre(shapeElements(dims) > LIMITS.maxElements);
        const proto = { dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((size) => ({ size })) }, floatVal: vals };
        const r = onlyRequestErrors(() => decodePredictInputs({ x: proto }, sigOf('DT_FLOAT', null), LIMITS));
        assert.ok(r instanceof RequestError && r.code === 'INVALID_ARGUMENT' && /more than the limit of 4096/.test(r.message), String(r));
      }),
      RUNS,
    );
  });
});

describe('fuzz: the signature check', () => {
  const spec: fc.Arbitrary<TensorSpec> = fc.record({
    name: fc.constant('t'),
    dtype: fc.constantFrom('DT_FLOAT', 'DT_INT32', 'DT_STRING'),
    shape: fc.oneof(fc.constant(null), fc.array(fc.constantFrom(-1, 0, 1, 2, 28), { maxLength: 4 })),
  });
  const header = fc.record({
    dtype: fc.constantFrom('DT_FLOAT', 'DT_INT32', 'DT_STRING', 'DT_FLOAT_REF'),
    shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(-1, 2 ** 40, 0.5)), { maxLength: 5 }),
    bytes: fc.nat(),
  });

  test('passes exactly the inputs that fit: known aliases, same dtype, compatible shape, shared batch size, within the limits', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c'), spec, { minKeys: 1 }), fc.dictionary(fc.constantFrom('a', 'b', 'z'), header), (specs, headers) => {
        const sig: SignatureInfo = { key: 'k', methodName: '', inputs: specs, outputs: {} };
        const r = onlyRequestErrors(() => checkHeaders(sig, headers, LIMITS));
        if (r instanceof RequestError) {
          assert.equal(r.code, 'INVALID_ARGUMENT');
          assert.match(r.message, /^input "[abz]"/);
          return;
        }
        let total = 0;
        for (const [alias, h] of Object.entries(headers)) {
          const s = specs[alias];
          assert.ok(s, `unknown alias ${alias} passed`);
          assert.equal(h.dtype.replace(/_REF$/, ''), s.dtype);
          assert.ok(h.shape.every((d) => Number.isSafeInteger(d) && d >= 0));
          assert.ok(shapeCompatible(s, h.shape));
          total += shapeElements(h.shape);
        }
        assert.ok(total <= LIMITS.maxElements);
      }),
      { numRuns: 2000 },
    );
  });
});
