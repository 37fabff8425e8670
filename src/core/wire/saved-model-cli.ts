// The inputs of `saved_model_cli run`, as tfsvc run takes them: --inputs 'x=a.npy;y=b.npz[arr]' (files numpy.load
// reads: .npy, and .npz with an optional [name]), --input_exprs 'x=np.ones((2,3));y=[[1,2]]' and --input_examples
// 'inputs=[{"x":[1.0],"name":["a"]}]' (serialized tf.Examples), with saved_model_cli's precedence (examples over exprs
// over files, with a warning) and its texts for bad input. Each value is then cast to its signature input's dtype, as
// a Session feed_dict does with np.asarray(value, dtype). Outputs print as NumPy arrays and --outdir writes KEY.npy.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { readNpy, writeNpy } from './npy.js';
import { formatNumpy } from './numpy-print.js';
import { readNpz } from './npz.js';
import { parsePyExpression, toNdArray, type NdArray, type PyValue } from './py-literal.js';
import { serializeExample } from './example-json.js';

export interface CliInputFlags {
  inputs?: string;
  inputExprs?: string;
  inputExamples?: string;
}

type Element = number | bigint | boolean | Uint8Array;

/** Splits 'k=v;k2=v2' (empty parts skipped), as saved_model_cli's preprocess_*_arg_string. */
function pairs(text: string, flag: string, help: string): Array<[string, string]> {
  return text.split(';').filter(Boolean).map((raw) => {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} "${raw}" format is incorrect. Please follow "${help}"`);
    return [raw.slice(0, eq).trim(), raw.slice(eq + 1)];
  });
}

/** --inputs: '<input_key>=<filename>' or '<input_key>=<filename>[<variable_name>]'. */
function fileInputs(text: string, warn: (m: string) => void): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const raw of text.split(';').filter(Boolean)) {
    const m = /^([^=]+)=([^[\]]+)(?:\[([^[\]]+)\])?$/.exec(raw);
    if (!m) throw new UsageError(`--inputs "${raw}" format is incorrect. Please follow "<input_key>=<filename>", or "<input_key>=<filename>[<variable_name>]"`);
    const [, key, file, variable] = m as unknown as [string, string, string, string | undefined];
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new UsageError(`--inputs ${key}=${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const isZip = bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50;
    if (!isZip) {
      if (variable) warn(`Input file ${file} contains a single ndarray. Name key "${variable}" ignored.`);
      out.set(key, readNpy(bytes, file));
      continue;
    }
    const arrays = readNpz(bytes, file);
    let name = variable;
    if (!name) {
      if (arrays.size !== 1) throw new UsageError(`Input file ${file} contains more than one ndarrays. Please specify the name of ndarray to use (${[...arrays.keys()].join(', ')}).`);
      name = [...arrays.keys()][0]!;
    }
    const entry = arrays.get(name);
    if (!entry) throw new UsageError(`Input file ${file} does not contain variable with name "${name}" (it has: ${[...arrays.keys()].join(', ')}).`);
    out.set(key, readNpy(entry, `${file}[${name}]`));
  }
  return out;
}

/** One tf.Example from {'feature': [values]}: floats → float_list, ints → int64_list, strings → bytes_list. */
function exampleOf(d: PyValue, where: string): Uint8Array {
  if (!d || typeof d !== 'object' || Array.isArray(d) || d instanceof Uint8Array || 'kind' in d) throw new UsageError(`${where}: each tf.Example is a dict of feature lists`);
  const feature: Record<string, Record<string, unknown>> = {};
  for (const [name, list] of Object.entries(d as Record<string, PyValue>)) {
    if (!Array.isArray(list)) throw new UsageError(`feature value must be a list, but ${name}: "${String(list)}" is not`);
    const first = list[0];
    if (typeof first === 'number') feature[name] = { floatList: { value: list.map(Number) } };
    else if (typeof first === 'string') feature[name] = { bytesList: { value: (list as string[]).map((s) => new TextEncoder().encode(s)) } };
    else if (first instanceof Uint8Array) feature[name] = { bytesList: { value: list } };
    else if (typeof first === 'number' || typeof first === 'bigint') feature[name] = { int64List: { value: (list as Array<number | bigint>).map((v) => String(v)) } };
    else throw new UsageError(`Type of ${JSON.stringify(String(first))} for feature ${name} is not supported for tf.train.Feature.`);
  }
  return serializeExample(feature);
}

/** Reads the three flags into tensors (or arrays still to be cast) by input key. */
export function readCliInputs(flags: CliInputFlags, warn: (m: string) => void = () => {}): Map<string, HostTensor | NdArray> {
  if (!flags.inputs && !flags.inputExprs && !flags.inputExamples) {
    throw new UsageError('At least one of --inputs, --input_exprs or --input_examples must be required');
  }
  const feed = new Map<string, HostTensor | NdArray>(fileInputs(flags.inputs ?? '', warn));
  for (const [key, expr] of pairs(flags.inputExprs ?? '', '--input_exprs', '<input_key>=<python expression>')) {
    if (feed.has(key)) warn(`input_key ${key} has been specified with both --inputs and --input_exprs options. Value in --input_exprs will be used.`);
    feed.set(key, toNdArray(parsePyExpression(expr, `--input_exprs ${key}`), `--input_exprs ${key}`));
  }
  for (const [key, expr] of pairs(flags.inputExamples ?? '', '--input_examples', '<input_key>=[{feature_name:[values]}]')) {
    const list = parsePyExpression(expr, `--input_examples ${key}`);
    if (!Array.isArray(list)) throw new UsageError(`tf.Example input must be a list of dictionaries, but "${expr}" is not a list`);
    if (feed.has(key)) warn(`input_key ${key} has been specified in multiple options. Value in --input_examples will be used.`);
    const data = list.map((d) => exampleOf(d as PyValue, `--input_examples ${key}`));
    feed.set(key, { dtype: 'DT_STRING', shape: [data.length], data });
  }
  return feed;
}

function elementsOf(v: HostTensor | NdArray): Element[] {
  if ('kind' in v) return v.values;
  return Array.from(v.data as ArrayLike<Element>);
}

/** Dense HostTensor data of `dtype` from elements (NumPy astype semantics: truncation toward zero for ints). */
function hostData(dtype: string, els: Element[], where: string): HostTensor['data'] {
  const num = (e: Element) => (e instanceof Uint8Array ? Number(new TextDecoder().decode(e)) : Number(e));
  const big = (e: Element): bigint => {
    if (typeof e === 'bigint') return e;
    const n = num(e);
    if (!Number.isFinite(n)) throw new UsageError(`${where}: ${n} cannot be an integer`);
    return BigInt(Math.trunc(n));
  };
  switch (dtype) {
    case 'DT_FLOAT':
    case 'DT_HALF':
    case 'DT_BFLOAT16':
      return Float32Array.from(els, num);
    case 'DT_DOUBLE':
      return Float64Array.from(els, num);
    case 'DT_INT32':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8':
    case 'DT_UINT16':
      return Int32Array.from(els, (e) => Math.trunc(num(e)));
    case 'DT_UINT32':
      return Uint32Array.from(els, (e) => Math.trunc(num(e)));
    case 'DT_INT64':
      return BigInt64Array.from(els, big);
    case 'DT_UINT64':
      return BigUint64Array.from(els, big);
    case 'DT_BOOL':
      return Uint8Array.from(els, (e) => (num(e) ? 1 : 0));
    case 'DT_STRING':
      return els.map((e) => (e instanceof Uint8Array ? e : new TextEncoder().encode(String(e))));
  }
  throw new UsageError(`${where}: inputs of ${dtype} are not supported`);
}

/**
 * The feed for `signature`: every key must be one of its inputs (saved_model_cli's error otherwise), each value cast to
 * its input's dtype. Shapes are the graph's to check.
 */
export function feedForSignature(feed: Map<string, HostTensor | NdArray>, signature: SignatureInfo): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [key, value] of feed) {
    const spec = signature.inputs[key];
    if (!spec) {
      throw new UsageError(`"${key}" is not a valid input key. Please choose from "${Object.keys(signature.inputs).join('", "')}", or use tfsvc inspect --signature ${signature.key}.`);
    }
    const from = 'kind' in value ? value.dtype : value.dtype;
    if (!('kind' in value) && from === spec.dtype) {
      out[key] = value;
      continue;
    }
    if ((from === 'DT_STRING') !== (spec.dtype === 'DT_STRING')) {
      throw new UsageError(`input "${key}" is ${from} but the signature's input ${spec.name} is ${spec.dtype}`);
    }
    out[key] = { dtype: spec.dtype, shape: value.shape, data: hostData(spec.dtype, elementsOf(value), `input "${key}"`) };
  }
  return out;
}

/**
 * saved_model_cli's report of a run, output keys sorted: "Result for output key K:" and the NumPy array, then with
 * `outdir` "Output K is saved to OUTDIR/K.npy". An existing file is an error unless `overwrite` (checked for every
 * output before anything is written, so a refused run writes nothing).
 */
export function reportOutputs(outputs: Record<string, HostTensor>, outdir?: string, overwrite = false): string {
  const keys = Object.keys(outputs).sort();
  const files = new Map(keys.map((k) => [k, outdir ? path.join(outdir, `${k}.npy`) : '']));
  if (outdir && !overwrite) {
    for (const f of files.values()) {
      if (existsSync(f)) throw new UsageError(`Output file ${f} already exists. Add "--overwrite" to overwrite the existing output files.`);
    }
  }
  if (outdir) mkdirSync(outdir, { recursive: true });
  const lines: string[] = [];
  for (const k of keys) {
    lines.push(`Result for output key ${k}:`, formatNumpy(outputs[k]!));
    if (outdir) {
      writeFileSync(files.get(k)!, writeNpy(outputs[k]!));
      lines.push(`Output ${k} is saved to ${files.get(k)}`);
    }
  }
  return lines.join('\n') + '\n';
}
