// peekModelSpec (src/core/wire/predict-request-reader.ts): the ModelSpec that gRPC admission reads by hand from a
// request before deciding to decode it must be the one protobufjs decodes, for Predict/Classify/Regress requests and
// MultiInference's first task, whatever else the message holds; on bytes it cannot read it says so (undefined).
// peekLeadingModelSpec reads it from a message's first bytes only (h2 admission before the rest arrives).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePlain, encodePlain } from '../../src/core/proto/schema.js';
import { peekLeadingModelSpec, peekModelSpec } from '../../src/core/wire/predict-request-reader.js';

const FILE = 'tensorflow_serving.proto';
type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }));
const modelSpec = fc.record(
  {
    name: text,
    version: fc.record({ value: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat()) }, { requiredKeys: [] }),
    versionLabel: text,
    signatureName: text,
  },
  { requiredKeys: [] },
);
const tensor = fc.record({ dtype: fc.constant('DT_FLOAT'), tensorShape: fc.constant({ dim: [{ size: 2 }] }), floatVal: fc.array(fc.float({ noNaN: true }), { maxLength: 4 }) });
const predictRequest = fc.record(
  {
    modelSpec,
    inputs: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((k) => k !== '__proto__'), tensor, { maxKeys: 3 }),
    outputFilter: fc.array(text, { maxLength: 3 }),
    clientId: fc.uint8Array({ maxLength: 8 }),
    predictStreamedOptions: fc.record({ requestState: fc.constantFrom('NONE', 'SPLIT'), returnSingleResponse: fc.boolean() }),
  },
  { requiredKeys: [] },
);

/** Whether the hand reader must agree (it may leave a version of 2^49 or more to protobufjs). */
const small = (spec: Plain | undefined): boolean => !(Number(spec?.version?.value ?? 0) >= 2 ** 49);

test('Predict, Classify and Regress requests: the hand-read ModelSpec is the one protobufjs decodes', () => {
  fc.assert(
    fc.property(predictRequest, (req) => {
      const bytes = Buffer.from(encodePlain('tensorflow.serving.PredictRequest', req, FILE));
      const expected = decodePlain<Plain>('tensorflow.serving.PredictRequest', bytes, FILE).modelSpec;
      const got = peekModelSpec(bytes);
      if (!small(expected)) assert.ok(got === undefined || JSON.stringify(got) === JSON.stringify(expected));
      else assert.deepEqual(got ?? undefined, expected);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(modelSpec, fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), (spec, names) => {
      for (const type of ['ClassificationRequest', 'RegressionRequest']) {
        const req = { modelSpec: spec, input: { exampleList: { examples: names.map((n) => ({ features: { feature: { n: { bytesList: { value: [Buffer.from(n)] } } } } })) } } };
        const bytes = Buffer.from(encodePlain(`tensorflow.serving.${type}`, req, FILE));
        const expected = decodePlain<Plain>(`tensorflow.serving.${type}`, bytes, FILE).modelSpec;
        if (small(expected)) assert.deepEqual(peekModelSpec(bytes) ?? undefined, expected, type);
      }
    }),
    { numRuns: 500 },
  );
});

test('MultiInference: the first task\'s ModelSpec', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ modelSpec, methodName: fc.constantFrom('tensorflow/serving/classify', 'tensorflow/serving/regress') }, { requiredKeys: ['methodName'] }), { maxLength: 3 }), (tasks) => {
      const bytes = Buffer.from(encodePlain('tensorflow.serving.MultiInferenceRequest', { tasks }, FILE));
      const decoded = decodePlain<Plain>('tensorflow.serving.MultiInferenceRequest', bytes, FILE);
      const expected = decoded.tasks?.[0]?.modelSpec;
      if (small(expected)) assert.deepEqual(peekModelSpec(bytes, true) ?? undefined, expected);
    }),
    { numRuns: 1000 },
  );
});

test('arbitrary bytes: never throws; whatever it reads is what protobufjs decodes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
      const bytes = Buffer.from(raw);
      const got = peekModelSpec(bytes);
      let expected: Plain | undefined;
      try {
        expected = decodePlain<Plain>('tensorflow.serving.PredictRequest', bytes, FILE).modelSpec;
      } catch {
        return; // the full decode refuses the message: admission's guess does not matter
      }
      if (got !== undefined) assert.deepEqual(got ?? undefined, expected);
    }),
    { numRuns: 5000 },
  );
  // A spec given twice is merged by protobufjs: left to it.
  const one = encodePlain('tensorflow.serving.PredictRequest', { modelSpec: { name: 'a' } }, FILE);
  const two = encodePlain('tensorflow.serving.PredictRequest', { modelSpec: { signatureName: 's' } }, FILE);
  assert.equal(peekModelSpec(Buffer.concat([one, two])), undefined);
  assert.equal(peekModelSpec(Buffer.alloc(0)), null, 'no ModelSpec at all');
  assert.equal(peekModelSpec(new Uint8Array(one)), undefined, 'not a Buffer');
});

test('first bytes only: any prefix gives nothing or the ModelSpec of the whole message, and the whole spec is enough', () => {
  fc.assert(
    fc.property(predictRequest, fc.nat(), fc.boolean(), (req, cut, nested) => {
      const bytes = Buffer.from(nested
        ? encodePlain('tensorflow.serving.MultiInferenceRequest', { tasks: [{ modelSpec: req.modelSpec, methodName: 'tensorflow/serving/classify' }] }, FILE)
        : encodePlain('tensorflow.serving.PredictRequest', req, FILE));
      const whole = peekModelSpec(bytes, nested);
      const prefix = bytes.subarray(0, cut % (bytes.length + 1));
      const got = peekLeadingModelSpec(prefix, nested);
      if (got !== undefined) assert.deepEqual(got, whole);
      // Once the spec's own bytes are in, it is read (protobufjs writes field 1 first).
      if (whole && small(whole)) assert.deepEqual(peekLeadingModelSpec(bytes, nested), whole);
    }),
    { numRuns: 3000 },
  );
  assert.equal(peekLeadingModelSpec(Buffer.from([0x12, 0x00, 0x0a, 0x00])), undefined, 'inputs first: decided from the whole message');
  assert.equal(peekLeadingModelSpec(Buffer.alloc(0)), undefined);
});
