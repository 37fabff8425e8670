// The REST body decoder: one entry per format (decodePredictJson for :predict, decodeExamplesJson for
// :classify/:regress), run on the HTTP thread or in a decode worker (decode-pool.ts). A body must decode to the same
// tensors, or fail with the same TF Serving error, on either thread.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SignatureInfo } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { decodeInferenceBody, type DecodedBody, type InferenceVerb } from '../../src/core/serving/rest/decode-body.js';
import { DecodePool } from '../../src/core/serving/rest/decode-pool.js';
import { serializeExample } from '../../src/core/wire/example-json.js';

const EXAMPLES = { name: 'tf_example:0', dtype: 'DT_STRING', shape: [-1] };
const FLOAT = (name: string) => ({ name, dtype: 'DT_FLOAT', shape: [-1, 1] });
// half_plus_two's signatures (as TF wrote them): one predict, one classify, one regress.
const signatures: Record<string, SignatureInfo> = {
  serving_default: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: FLOAT('x:0') }, outputs: { y: FLOAT('y:0') } },
  classify_x_to_y: { key: 'classify_x_to_y', methodName: 'tensorflow/serving/classify', inputs: { inputs: EXAMPLES }, outputs: { scores: FLOAT('y:0') } },
  regress_x_to_y: { key: 'regress_x_to_y', methodName: 'tensorflow/serving/regress', inputs: { inputs: EXAMPLES }, outputs: { outputs: FLOAT('y:0') } },
};

type Outcome = { ok: DecodedBody } | { code?: string; message: string };

async function outcome(run: () => DecodedBody | Promise<DecodedBody>): Promise<Outcome> {
  try {
    return { ok: await run() };
  } catch (err) {
    return { code: err instanceof RequestError ? err.code : undefined, message: (err as Error).message };
  }
}

/** A decoded body as plain data (typed arrays as arrays), for comparing results from two threads. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return [...(v as Uint8Array)];
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('REST body decoder: one entry per format, same answer on the HTTP thread and on a decode worker', () => {
  const pool = new DecodePool(1);
  after(() => pool.close());
  const both = async (verb: InferenceVerb, body: string) => {
    const bytes = Buffer.from(body);
    const [here, there] = await Promise.all([outcome(() => decodeInferenceBody(verb, bytes, signatures)), outcome(() => pool.decode(verb, bytes, signatures))]);
    assert.deepEqual(plain(there), plain(here), `${verb} ${body.slice(0, 80)}`);
    return here;
  };

  test(':classify and :regress bodies become the signature\'s one input of serialized Examples', async () => {
    const cls = await both('classify', '{"signature_name": "classify_x_to_y", "context": {"c": "k"}, "examples": [{"x": 1.5}, {"x": [2.5, 3.5]}]}');
    assert.ok('ok' in cls, JSON.stringify(cls));
    const d = cls.ok;
    assert.equal(d.verb, 'classify');
    assert.equal(d.signatureName, 'classify_x_to_y');
    assert.ok(d.verb === 'classify' && d.count === 2);
    assert.deepEqual(Object.keys(d.inputs), ['inputs']);
    assert.equal(d.inputs.inputs!.dtype, 'DT_STRING');
    assert.deepEqual(d.inputs.inputs!.shape, [2]);
    const context = { c: { bytesList: { value: [Buffer.from('k')] } } };
    assert.deepEqual(plain(d.inputs.inputs!.data), plain([
      serializeExample({ x: { floatList: { value: [1.5] } } }, context),
      serializeExample({ x: { floatList: { value: [2.5, 3.5] } } }, context),
    ]));
    const reg = await both('regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 4.0}]}');
    assert.ok('ok' in reg && reg.ok.verb === 'regress' && reg.ok.count === 1 && reg.ok.signatureName === 'regress_x_to_y');
  });

  test('errors keep TF Serving\'s texts, wherever the body is decoded', async () => {
    const cases: [InferenceVerb, string, string][] = [
      ['classify', '', 'JSON Parse error: The document is empty'],
      ['classify', '{"examples": 3}', `JSON Value: {\n    "examples": 3\n} Expecting 'examples' value to be an list/array`],
      ['classify', '{"signature_name": "classify_x_to_y", "examples": []}', `JSON Value: {\n    "signature_name": "classify_x_to_y",\n    "examples": []\n} 'examples' value is an empty array`],
      ['classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": [1, "a"]}]}', 'Unexpected element type in feature: x expecting type: int64'],
      ['classify', '{"signature_name": "nope", "examples": [{"x": 1}]}', 'Serving signature name: "nope" not found in signature def'],
      // Names of Object.prototype's members are not signatures (they used to reach the signature checks: a 500).
      ['classify', '{"signature_name": "constructor", "examples": [{"x": 1}]}', 'Serving signature name: "constructor" not found in signature def'],
      ['regress', '{"signature_name": "__proto__", "examples": [{"x": 1}]}', 'Serving signature name: "__proto__" not found in signature def'],
      ['regress', '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}', /^No regression outputs found in SignatureDef: inputs \{/.source],
      ['classify', '{"examples": [{"x": 1.0}]}', /^No classification inputs found in SignatureDef: inputs \{\n  key: "x"/.source],
    ];
    for (const [verb, body, message] of cases) {
      const o = await both(verb, body);
      assert.ok(!('ok' in o), `${body} decoded`);
      assert.equal(o.code, 'INVALID_ARGUMENT', body);
      if (message.startsWith('^')) assert.match(o.message, new RegExp(message), body);
      else assert.equal(o.message, message);
    }
  });

  test('a large :classify body decodes on the worker to the same tensor as on the HTTP thread', async () => {
    const examples = Array.from({ length: 20_000 }, (_, i) => `{"x": ${i}.5, "id": "e${i}"}`);
    const o = await both('classify', `{"signature_name": "classify_x_to_y", "examples": [${examples.join(',')}]}`);
    assert.ok('ok' in o && o.ok.verb === 'classify' && o.ok.count === 20_000);
  });
});
