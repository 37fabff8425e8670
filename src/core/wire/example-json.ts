// TF Serving's JSON for :classify and :regress (util/json_tensor.cc FillClassifyRegressRequestFromJson,
// MakeJsonFromClassificationResult / MakeJsonFromRegressionResult) and the result rules of its classifier and
// regressor (servables/tensorflow/classifier.cc, regressor.cc), as pure functions.
//
// Request: {"signature_name"?: string, "context"?: {feature: value|list}, "examples": [{feature: value|list}, ...]}.
// Each example becomes a serialized tensorflow.Example; feature kinds follow the JSON: integer literals and booleans
// -> int64_list, other numbers -> float_list, strings and {"b64": ...} -> bytes_list. With a context, its features
// are merged into each example (the example winning on a name clash), which is how TF parses the context+example
// bytes TF Serving feeds its model.
// Response: {"results": [[[label, score], ...], ...]} (classify) or {"results": [value, ...]} (regress).
import { RequestError, type ErrorCodeName } from '../errors.js';
import type { HostTensor, SignatureInfo, TensorSpec } from '../engine/types.js';
import { protoType } from '../proto/schema.js';
import { isInt64, isJsonObject, isUint64, jsonNumberInfo, jsonTypeName, parseJsonBody, parsePrecise, preciseBody } from './json-parse.js';
import { decodeBase64Strict, requestSignatureName, signatureNotFoundError } from './json-request.js';
import { PrettyJsonWriter, jsonDebugString } from './json-writer.js';
import { formatFloat32 } from './float-format.js';

export interface ExamplesRequest {
  /** "signature_name" of the body, '' when absent (serving_default). */
  signatureName: string;
  /** One serialized tensorflow.Example per entry of "examples", context merged in: the model's input tensor. */
  examples: Uint8Array[];
}

/** tensorflow.serving.ClassificationResult as a plain object (camelCase, like decodePlain gives). */
export interface ClassificationResult {
  classifications: { classes: { label: string; score: number }[] }[];
}

/** tensorflow.serving.RegressionResult as a plain object. */
export interface RegressionResult {
  regressions: { value: number }[];
}

const fail = (message: string, code: ErrorCodeName = 'INVALID_ARGUMENT') => new RequestError(code, message);

type FeatureKind = 'bytesList' | 'floatList' | 'int64List';
interface Feature {
  kind?: FeatureKind;
  values: (Uint8Array | number | string)[];
}

const KIND_NAMES: Record<FeatureKind, string> = { bytesList: 'bytes', floatList: 'float', int64List: 'int64' };

function incompatible(name: string, f: Feature): RequestError {
  return fail(`Unexpected element type in feature: ${name} expecting type: ${f.kind ? KIND_NAMES[f.kind] : 'UNKNOWN'}`);
}

function setKind(name: string, f: Feature, kind: FeatureKind): void {
  if (f.kind !== undefined && f.kind !== kind) throw incompatible(name, f);
  f.kind = kind;
}

const utf8 = new TextEncoder();

/** AddValueToFeature. */
function addFeatureValue(v: unknown, name: string, f: Feature): void {
  const type = jsonTypeName(v);
  switch (type) {
    case 'Null':
    case 'Array':
      throw fail(`Feature: ${name} has element with unexpected JSON type: ${type}`);
    case 'True':
    case 'False':
      setKind(name, f, 'int64List');
      f.values.push(v ? 1 : 0);
      return;
    case 'Object': {
      const keys = Object.keys(v as object);
      const b64 = (v as Record<string, unknown>).b64;
      if (keys.length !== 1 || keys[0] !== 'b64' || typeof b64 !== 'string') {
        throw fail(`Feature: ${name} has element with unexpected JSON type: ${type}`);
      }
      setKind(name, f, 'bytesList');
      const bytes = decodeBase64Strict(b64);
      if (!bytes) throw fail('Unable to base64 decode');
      f.values.push(bytes);
      return;
    }
    case 'String':
      setKind(name, f, 'bytesList');
      f.values.push(utf8.encode(v as string));
      return;
    case 'Number': {
      const n = jsonNumberInfo(v)!;
      if (!n.isInteger) {
        setKind(name, f, 'floatList');
        f.values.push(n.value);
      } else {
        setKind(name, f, 'int64List');
        if (!isInt64(n) && isUint64(n)) throw fail(`Feature: ${name} has uint64_t element. Only int64_t is supported.`);
        f.values.push(n.big!.toString());
      }
      return;
    }
  }
}

type FeatureMap = Record<string, Record<string, unknown>>;

/** MakeExampleFromJsonObject: the features of one JSON example (as a plain tensorflow.Features map). */
function featuresFromJson(v: unknown): FeatureMap {
  if (!isJsonObject(v)) throw fail(`Example must be JSON object but got JSON ${jsonTypeName(v)}`);
  const feature: FeatureMap = {};
  for (const [name, content] of Object.entries(v)) {
    const f: Feature = { values: [] };
    if (Array.isArray(content)) for (const e of content) addFeatureValue(e, name, f);
    else addFeatureValue(content, name, f);
    feature[name] = f.kind ? { [f.kind]: { value: f.values } } : {};
  }
  return feature;
}

/**
 * One serialized Example from its features, with `context` merged in. TF Serving concatenates the serialized context
 * and example (protobuf merge semantics: map entries of the example replace the context's); we serialize that merge
 * as one message, which every parser reads the same way (protobufjs would not merge a repeated sub-message).
 */
export function serializeExample(feature: FeatureMap, context?: FeatureMap): Uint8Array {
  const merged = context ? { ...context, ...feature } : feature;
  const type = protoType('tensorflow.Example');
  const hasAny = Object.keys(merged).length > 0 || (context !== undefined && Object.keys(context).length > 0);
  return type.encode(type.fromObject(hasAny ? { features: { feature: merged } } : {})).finish();
}

/**
 * Decodes a :classify / :regress body (from parseJsonBody) into the serialized Examples TF Serving would feed the
 * model. Throws RequestError with TF Serving's texts.
 */
export function decodeExamplesRequest(body: unknown): ExamplesRequest {
  const doc = preciseBody(body);
  const signatureName = requestSignatureName(doc);
  const d = doc as Record<string, unknown>;
  let context: FeatureMap | undefined;
  if (d.context !== undefined) context = featuresFromJson(d.context);
  const list = d.examples;
  if (list === undefined) {
    throw fail(`JSON Value: ${jsonDebugString(doc)} When method is classify, key 'examples' is expected and was not found`);
  }
  if (!Array.isArray(list)) throw fail(`JSON Value: ${jsonDebugString(doc)} Expecting 'examples' value to be an list/array`);
  if (list.length === 0) throw fail(`JSON Value: ${jsonDebugString(doc)} 'examples' value is an empty array`);
  const examples = list.map((e) => serializeExample(featuresFromJson(e), context));
  return { signatureName, examples };
}

export interface ExamplesJsonRequest {
  /** The signature key the request names (its signature_name, else the default); the servable has it. */
  signatureName: string;
  /** The signature's one input alias ("inputs"), fed the serialized Examples as a DT_STRING vector. */
  inputs: Record<string, HostTensor>;
  /** How many examples the request holds (the response has one result per example). */
  count: number;
}

/**
 * The decoder's one entry for a :classify or :regress body (REST, on the HTTP thread or in a decode worker): the JSON
 * parse, the examples (TF Serving's texts), the signature the body names (TF Serving's REST error when the servable
 * lacks it), TF Serving's checks of that signature for `verb`, and the input tensor of serialized Examples.
 * Contract: decoded, not checked against the signature's shapes and limits; callers run signature-check.ts next.
 * Takes no ownership of `body`.
 */
export function decodeExamplesJson(
  body: Uint8Array,
  signatures: Record<string, SignatureInfo>,
  verb: 'classify' | 'regress',
  defaultSignature = 'serving_default',
): ExamplesJsonRequest {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // Example features need number kinds (`1` int64, `1.0` float): one precise parse, not JSON.parse and then the
  // precise re-parse that preciseBody would do (parseJsonBody's own fallback for any text JSON.parse rejects).
  const req = decodeExamplesRequest(text.length === 0 ? parseJsonBody(text) : parsePrecise(text));
  const signatureName = req.signatureName || defaultSignature;
  // Own properties only: a signature_name of "constructor" or "__proto__" names no signature.
  const signature = Object.prototype.hasOwnProperty.call(signatures, signatureName) ? signatures[signatureName]! : undefined;
  if (!signature) throw signatureNotFoundError(signatureName);
  const alias = verb === 'classify' ? checkClassifySignature(signature) : checkRegressSignature(signature);
  const examples = packed(req.examples);
  return { signatureName, inputs: { [alias]: { dtype: 'DT_STRING', shape: [examples.length], data: examples } }, count: examples.length };
}

/**
 * The same bytes as views on one ArrayBuffer. protobufjs hands each Example back in a slice of Node's shared 8 KiB
 * pool, which cannot be transferred between threads: a large request would be copied pool chunk by pool chunk (and
 * with the pool's unrelated bytes) from the decode worker. One buffer moves in one transfer.
 */
function packed(parts: Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const buf = new Uint8Array(total);
  const out: Uint8Array[] = new Array(parts.length);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    buf.set(p, at);
    out[i] = buf.subarray(at, at + p.byteLength);
    at += p.byteLength;
  }
  return out;
}

// --- signatures -----------------------------------------------------------------------------------------------------

/** SignatureDef::DebugString() (protobuf text format) from what SignatureInfo keeps: name, dtype, shape. */
export function signatureDebugString(sig: SignatureInfo): string {
  const lines: string[] = [];
  const tensorInfo = (field: string, specs: Record<string, TensorSpec>) => {
    for (const key of Object.keys(specs).sort()) {
      const s = specs[key];
      lines.push(`${field} {`, `  key: ${JSON.stringify(key)}`, '  value {', `    name: ${JSON.stringify(s.name)}`);
      lines.push(`    dtype: ${s.dtype}`, '    tensor_shape {');
      if (s.shape === null) lines.push('      unknown_rank: true');
      else for (const d of s.shape) lines.push('      dim {', ...(d !== 0 ? [`        size: ${d}`] : []), '      }');
      lines.push('    }', '  }', '}');
    }
  };
  tensorInfo('inputs', sig.inputs);
  tensorInfo('outputs', sig.outputs);
  if (sig.methodName) lines.push(`method_name: ${JSON.stringify(sig.methodName)}`);
  return lines.join('\n') + '\n';
}

/**
 * The signature a :classify / :regress request names ('' = serving_default), or TF Serving's error for an unknown one
 * (GetClassificationSignatureDef / GetRegressionSignatureDef word it differently from Predict).
 */
export function examplesSignature(signatures: Record<string, SignatureInfo>, name: string): SignatureInfo {
  const key = name || 'serving_default';
  // Own properties only: "constructor" or "__proto__" name no signature (they reached the signature checks: a 500).
  const sig = Object.prototype.hasOwnProperty.call(signatures, key) ? signatures[key] : undefined;
  if (!sig) throw fail(`No signature was found with the name: ${key}`);
  return sig;
}

/**
 * TF Serving's checks on a signature used for :classify (PreProcessClassification, with its default
 * --enable_signature_method_name_check=false, so method_name is not checked). Returns the input alias.
 */
export function checkClassifySignature(sig: SignatureInfo): string {
  const inputs = Object.keys(sig.inputs);
  const outputs = Object.keys(sig.outputs);
  if (inputs.length !== 1) throw fail('Expected one input Tensor.');
  if (outputs.length !== 1 && outputs.length !== 2) throw fail(`Expected one or two output Tensors, found ${outputs.length}`);
  if (!sig.inputs.inputs) throw fail(`No classification inputs found in SignatureDef: ${signatureDebugString(sig)}`);
  if (!sig.outputs.classes && !sig.outputs.scores) {
    throw fail(
      `Expected classification signature outputs to contain at least one of "classes" or "scores". Signature was: ${signatureDebugString(sig)}`,
    );
  }
  return 'inputs';
}

/** TF Serving's checks on a signature used for :regress (PreProcessRegression). Returns the input alias. */
export function checkRegressSignature(sig: SignatureInfo): string {
  if (Object.keys(sig.inputs).length !== 1) throw fail('Expected one input Tensor.');
  if (Object.keys(sig.outputs).length !== 1) throw fail('Expected one output Tensor.');
  if (!sig.inputs.inputs) throw fail(`No regression inputs found in SignatureDef: ${signatureDebugString(sig)}`);
  if (!sig.outputs.outputs) throw fail(`No regression outputs found in SignatureDef: ${signatureDebugString(sig)}`);
  return 'inputs';
}

/** TensorShape::DebugString(): "[2,3]", "[]". */
const shapeDebug = (shape: number[]) => `[${shape.join(',')}]`;

/** The batch size of a run: the examples' count, or (when not given) the first output's leading dimension. */
function batchOf(outputs: Record<string, HostTensor>, numExamples?: number): number {
  if (numExamples !== undefined) return numExamples;
  const first = Object.values(outputs)[0];
  return first && first.shape.length > 0 ? first.shape[0] : 0;
}

/** PostProcessClassificationResult: "classes" (DT_STRING [batch, n]) and/or "scores" (DT_FLOAT [batch, n]). */
export function classificationResult(outputs: Record<string, HostTensor>, numExamples?: number): ClassificationResult {
  const n = batchOf(outputs, numExamples);
  const classes = outputs.classes;
  const scores = outputs.scores;
  if (classes) {
    if (classes.shape.length !== 2) throw fail(`Expected Tensor shape: [batch_size num_classes] but got ${shapeDebug(classes.shape)}`);
    if (classes.dtype !== 'DT_STRING') throw fail(`Expected classes Tensor of DT_STRING. Got: ${classes.dtype}`);
    if (classes.shape[0] !== n) throw fail(`Expected classes output batch size of ${n}. Got: ${classes.shape[0]}`);
  }
  if (scores) {
    if (scores.shape.length !== 2) throw fail(`Expected Tensor shape: [batch_size num_classes] but got ${shapeDebug(scores.shape)}`);
    if (scores.dtype !== 'DT_FLOAT') throw fail(`Expected scores Tensor of DT_FLOAT. Got: ${scores.dtype}`);
    if (scores.shape[0] !== n) throw fail(`Expected scores output batch size of ${n}. Got: ${scores.shape[0]}`);
  }
  let numClasses = 0;
  if (classes && scores) {
    if (classes.shape[1] !== scores.shape[1]) {
      throw fail(`Tensors class and score should match in dim_size(1). Got ${classes.shape[1]} vs. ${scores.shape[1]}`);
    }
    numClasses = classes.shape[1];
  } else if (classes) numClasses = classes.shape[1];
  else if (scores) numClasses = scores.shape[1];
  const decoder = new TextDecoder();
  const result: ClassificationResult = { classifications: [] };
  for (let i = 0; i < n; i++) {
    const list: { label: string; score: number }[] = [];
    for (let c = 0; c < numClasses; c++) {
      const k = i * numClasses + c;
      list.push({
        label: classes ? decoder.decode((classes.data as Uint8Array[])[k]) : '',
        score: scores ? (scores.data as Float32Array)[k] : 0,
      });
    }
    result.classifications.push({ classes: list });
  }
  return result;
}

/** PostProcessRegressionResult: "outputs" (DT_FLOAT [batch] or [batch, 1]). */
export function regressionResult(outputs: Record<string, HostTensor>, numExamples?: number): RegressionResult {
  const t = outputs.outputs;
  if (!t) throw fail("Could not find output tensor 'outputs'");
  const n = batchOf(outputs, numExamples);
  if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1))) {
    throw fail(`Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got ${shapeDebug(t.shape)}`);
  }
  if (n !== t.shape[0]) throw fail(`Input batch size did not match output batch size: ${n} vs. ${t.shape[0]}`);
  if (t.dtype !== 'DT_FLOAT') throw fail(`Expected output Tensor of DT_FLOAT.  Got: ${t.dtype}`);
  const data = t.data as Float32Array;
  if (data.length !== n) throw fail(`Expected output batch size to be ${n}.  Got: ${data.length}`);
  return { regressions: Array.from(data, (value) => ({ value })) };
}

/** MakeJsonFromClassificationResult. */
export function encodeClassificationResultJson(result: ClassificationResult): string {
  if (result.classifications.length === 0) throw fail('Cannot convert empty ClassificationResults to JSON');
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('results');
  w.startArray();
  for (const c of result.classifications) {
    w.singleLineArrays = true;
    w.startArray();
    for (const cl of c.classes) {
      w.startArray();
      w.string(cl.label);
      w.raw(formatFloat32(Math.fround(cl.score)));
      w.endArray();
    }
    w.endArray();
    w.singleLineArrays = false;
  }
  w.endArray();
  w.endObject();
  return w.toString();
}

/** MakeJsonFromRegressionResult. */
export function encodeRegressionResultJson(result: RegressionResult): string {
  if (result.regressions.length === 0) throw fail('Cannot convert empty RegressionResults to JSON');
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('results');
  w.singleLineArrays = true;
  w.startArray();
  for (const r of result.regressions) w.raw(formatFloat32(Math.fround(r.value)));
  w.endArray();
  w.endObject();
  return w.toString();
}

/** The :classify response text for a classify run's outputs (`numExamples`: the request's example count). */
export function encodeClassifyResponse(outputs: Record<string, HostTensor>, signature?: SignatureInfo, numExamples?: number): string {
  void signature;
  return encodeClassificationResultJson(classificationResult(outputs, numExamples));
}

/** The :regress response text for a regress run's outputs. */
export function encodeRegressResponse(outputs: Record<string, HostTensor>, signature?: SignatureInfo, numExamples?: number): string {
  void signature;
  return encodeRegressionResultJson(regressionResult(outputs, numExamples));
}

/**
 * The request's size for the signature check's bytes bound when only its examples are at hand (gRPC Classify,
 * Regress, MultiInference): at least the serialized tf.Examples it carried.
 */
export function examplesBytes(examples: readonly Uint8Array[]): number {
  let n = 0;
  for (const e of examples) n += e.byteLength;
  return n;
}

/** Serialized Examples of a gRPC tensorflow.serving.Input (decoded plain object), context merged like TF Serving. */
export function examplesFromInput(input: Record<string, unknown> | undefined): Uint8Array[] {
  type PlainExample = { features?: { feature?: FeatureMap } } | undefined;
  const featuresOf = (e: unknown) => (e as PlainExample)?.features?.feature ?? {};
  const list = input?.exampleList as { examples?: unknown[] } | undefined;
  const withContext = input?.exampleListWithContext as { examples?: unknown[]; context?: unknown } | undefined;
  let out: Uint8Array[] = [];
  if (list) out = (list.examples ?? []).map((e) => serializeExample(featuresOf(e)));
  else if (withContext) {
    const context = featuresOf(withContext.context);
    out = (withContext.examples ?? []).map((e) => serializeExample(featuresOf(e), context));
  }
  if (out.length === 0) throw fail('Input is empty.');
  return out;
}
