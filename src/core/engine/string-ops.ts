// String ops that Keras text preprocessing (TextVectorization, StringLookup) runs, as tfsvc custom ops on the host.
// tfjs-converter lacks StringLower and StringSplitV2; it maps StaticRegexReplace and RaggedTensorToTensor, but the
// wasm backend has no kernel for either, and its regex replacement reads the rewrite with JavaScript's `$1` rules
// instead of RE2's `\1`. These run on the host for every backend (string tensors live in JS memory anyway) and follow
// TensorFlow's kernels (tensorflow/core/kernels/{string_lower_op,regex_replace_op,string_split_op,
// ragged_tensor_to_tensor_op}.cc):
//   StringLower / StringUpper: encoding "" changes ASCII letters only, "utf-8" does Unicode case mapping.
//   StaticRegexReplace: RE2 pattern on UTF-8 text; rewrite with \0..\9 and \\; replace_global (default true).
//   StringSplitV2: python str.split semantics; sep "" splits on runs of whitespace and drops empty tokens, any other
//     sep splits on every occurrence and keeps empty tokens; maxsplit > 0 caps the number of splits. Output is a
//     sparse tensor: indices [n,2], values [n], dense_shape [batch, longest row].
//   RaggedTensorToTensor: tfjs's own CPU implementation, called on the host.
import * as tf from '@tensorflow/tfjs-core';
import { shared } from '@tensorflow/tfjs-backend-cpu';
import { intAttr, rawStringAttr, rawStringListAttr, stringBytes, type GraphNode } from './node-attrs.js';

/** A request whose strings the op cannot process (the run reports INVALID_ARGUMENT). */
export class StringOpError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, or latin1 when the bytes are not valid UTF-8 (so every byte survives the round trip). */
function decode(b: Uint8Array): { text: string; latin1: boolean } {
  try {
    return { text: utf8.decode(b), latin1: false };
  } catch {
    return { text: Buffer.from(b).toString('latin1'), latin1: true };
  }
}

function encode(text: string, latin1: boolean): Uint8Array {
  return Uint8Array.from(Buffer.from(text, latin1 ? 'latin1' : 'utf8'));
}

function mapStrings(t: tf.Tensor, f: (b: Uint8Array) => Uint8Array): tf.Tensor {
  return tf.tensor(stringBytes(t).map(f), t.shape, 'string');
}

function changeCase(node: GraphNode, upper: boolean): tf.Tensor {
  const encoding = rawStringAttr(node, 'encoding', '').toLowerCase();
  return mapStrings(node.inputs[0]!, (b) => {
    if (encoding === '') {
      const out = Uint8Array.from(b);
      for (let i = 0; i < out.length; i++) {
        const c = out[i]!;
        if (!upper && c >= 65 && c <= 90) out[i] = c + 32;
        else if (upper && c >= 97 && c <= 122) out[i] = c - 32;
      }
      return out;
    }
    const { text, latin1 } = decode(b);
    if (latin1) throw new StringOpError(`Invalid UTF-8 string for ${upper ? 'StringUpper' : 'StringLower'} with encoding ${encoding}`);
    return encode(upper ? text.toUpperCase() : text.toLowerCase(), false);
  });
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: '\\t\\n\\v\\f\\r ',
  punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f',
};
/** Characters a backslash may escape in a JavaScript `u` regex. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

/**
 * RE2 syntax → a JavaScript RegExp with the `u` flag (code points, as RE2 matches UTF-8 runes): named groups
 * `(?P<n>`, `\A` / `\z`, POSIX classes, `\pL`, and escaped punctuation that `u` mode rejects (`\'`, `\#`, ... as
 * Python's re.escape writes them: Keras' punctuation pattern).
 */
export function re2ToRegExp(pattern: string, global: boolean): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const n = pattern[i + 1]!;
      i++;
      if (n === 'A') out += '^';
      else if (n === 'z') out += '$';
      else if ((n === 'p' || n === 'P') && /[A-Z]/.test(pattern[i + 1] ?? '')) out += `\\${n}{${pattern[++i]}}`;
      else if (/[!-/:-@[-`{-~]/.test(n) && !JS_SYNTAX.has(n)) out += `\\x${n.charCodeAt(0).toString(16).padStart(2, '0')}`;
      else out += `\\${n}`;
      continue;
    }
    if (c === '(' && pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
    if (posix && POSIX_CLASSES[posix[2]!] && !posix[1]) {
      out += POSIX_CLASSES[posix[2]!];
      i += posix[0].length - 1;
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, global ? 'gu' : 'u');
  } catch (err) {
    throw new StringOpError(`Invalid pattern: ${pattern} (${(err as Error).message})`);
  }
}

/** RE2's rewrite string (`\1`, `\0` the whole match, `\\` a backslash) as a replacer function. */
export function re2Rewrite(rewrite: string): (match: string, ...groups: unknown[]) => string {
  const parts: (string | number)[] = [];
  let lit = '';
  for (let i = 0; i < rewrite.length; i++) {
    const c = rewrite[i]!;
    if (c === '\\' && i + 1 < rewrite.length) {
      const n = rewrite[++i]!;
      if (/\d/.test(n)) {
        parts.push(lit, Number(n));
        lit = '';
      } else lit += n;
    } else lit += c;
  }
  parts.push(lit);
  return (match, ...groups) =>
    parts.map((p) => (typeof p === 'string' ? p : p === 0 ? match : typeof groups[p - 1] === 'string' ? (groups[p - 1] as string) : '')).join('');
}

const compiled = new Map<string, { re: RegExp; rewrite: (m: string, ...g: unknown[]) => string }>();

function staticRegexReplace(node: GraphNode): tf.Tensor {
  const pattern = rawStringAttr(node, 'pattern', '');
  const rewriteText = rawStringAttr(node, 'rewrite', '');
  const global = node.node?.rawAttrs?.replace_global?.b ?? true;
  const cacheKey = `${global ? 'g' : '1'}\u0000${pattern}\u0000${rewriteText}`;
  let c = compiled.get(cacheKey);
  if (!c) {
    c = { re: re2ToRegExp(pattern, global), rewrite: re2Rewrite(rewriteText) };
    if (compiled.size > 256) compiled.clear();
    compiled.set(cacheKey, c);
  }
  const { re, rewrite } = c;
  return mapStrings(node.inputs[0]!, (b) => {
    const { text, latin1 } = decode(b);
    re.lastIndex = 0;
    return encode(text.replace(re, rewrite), latin1);
  });
}

const WHITESPACE = /[ \t\n\v\f\r]+/;

/** python str.split(sep, maxsplit) on bytes (as latin1 text, so multi-byte characters are never cut). */
export function splitV2(s: string, sep: string, maxsplit: number): string[] {
  if (sep === '') {
    const out: string[] = [];
    let rest = s.replace(/^[ \t\n\v\f\r]+/, '');
    while (rest.length > 0) {
      if (maxsplit > 0 && out.length === maxsplit) {
        out.push(rest);
        break;
      }
      const m = WHITESPACE.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const parts = s.split(sep);
  if (maxsplit >= 0 && parts.length > maxsplit + 1) return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
  return parts;
}

function stringSplitV2(node: GraphNode): tf.Tensor[] {
  const [input, sepT] = node.inputs as [tf.Tensor, tf.Tensor];
  if (input.rank !== 1) throw new StringOpError(`input must be a vector, got shape: [${input.shape.join(',')}]`);
  if (sepT.rank !== 0) throw new StringOpError(`sep must be a scalar, got shape: [${sepT.shape.join(',')}]`);
  const sep = Buffer.from(stringBytes(sepT)[0]!).toString('latin1');
  const maxsplit = intAttr(node, 'maxsplit', -1);
  const indices: number[] = [];
  const values: Uint8Array[] = [];
  let longest = 0;
  stringBytes(input).forEach((b, row) => {
    const tokens = splitV2(Buffer.from(b).toString('latin1'), sep, maxsplit);
    tokens.forEach((t, j) => {
      indices.push(row, j);
      values.push(Uint8Array.from(Buffer.from(t, 'latin1')));
    });
    longest = Math.max(longest, tokens.length);
  });
  return [
    tf.tensor2d(indices, [values.length, 2], 'int32'),
    tf.tensor1d(values as unknown as string[], 'string'),
    tf.tensor1d([input.shape[0]!, longest], 'int32'),
  ];
}

/** Inputs: shape, values, default_value, row_partition_tensors...; attr row_partition_types. */
function raggedTensorToTensor(node: GraphNode): tf.Tensor {
  const [shape, values, defaultValue, ...partitions] = node.inputs as tf.Tensor[];
  const types = rawStringListAttr(node, 'row_partition_types');
  const data = (t: tf.Tensor) => (t.dtype === 'string' ? stringBytes(t) : t.dataSync());
  // A scalar shape (Keras passes -1 when no output_sequence_length is set) means every dimension is free.
  const rank = types.filter((p) => p !== 'FIRST_DIM_SIZE').length + values!.rank;
  const dims = shape!.rank === 0 ? new Int32Array(rank).fill(-1) : (shape!.dataSync() as Int32Array);
  const parts = partitions.map((p) => p.dataSync() as Int32Array);
  checkPartitions(parts, types, values!.shape[0] ?? 0);
  const [outShape, out] = shared.raggedTensorToTensorImpl(
    dims, [dims.length], data(values!) as never, values!.shape, values!.dtype, data(defaultValue!) as never,
    defaultValue!.shape, parts, partitions.map((p) => p.shape), types,
  );
  return tf.tensor(out as never, outShape, values!.dtype);
}

/**
 * TensorFlow's checks on row partitions, before tfjs's implementation sizes its output from them: splits that do
 * not start at 0, decrease, or end beyond the values would make it allocate from garbage (a multi-gigabyte array
 * aborts the whole process), where TensorFlow answers INVALID_ARGUMENT.
 */
function checkPartitions(parts: Int32Array[], types: string[], nvals: number): void {
  const ordered = types.filter((t) => t !== 'FIRST_DIM_SIZE');
  if (ordered.length !== parts.length - (types[0] === 'FIRST_DIM_SIZE' ? 1 : 0)) return;
  const offset = types[0] === 'FIRST_DIM_SIZE' ? 1 : 0;
  ordered.forEach((type, i) => {
    const p = parts[i + offset]!;
    // Entries at the next level: the next partition's rows, or the values for the innermost one.
    const next = i + 1 < ordered.length ? (ordered[i + 1] === 'ROW_SPLITS' ? parts[i + offset + 1]!.length - 1 : parts[i + offset + 1]!.length) : nvals;
    if (type === 'ROW_SPLITS') {
      const bad = p.length === 0 || p[0] !== 0 || p[p.length - 1] !== next || p.some((v, j) => j > 0 && v < p[j - 1]!);
      if (bad) throw new StringOpError(`RaggedTensorToTensor: row_splits must start at 0, never decrease and end at ${next}, got [${Array.from(p.slice(0, 8)).join(', ')}${p.length > 8 ? ', ...' : ''}]`);
    } else if (type === 'VALUE_ROWIDS') {
      const bad = p.length !== next || p.some((v, j) => v < 0 || (j > 0 && v < p[j - 1]!));
      if (bad) throw new StringOpError(`RaggedTensorToTensor: value_rowids must be ${next} non-negative, non-decreasing row ids`);
    }
  });
}

/**
 * Equal / NotEqual: tfjs's wasm kernels do not compare strings (they log an error and return garbage), and Keras
 * compares every token with the mask token. Strings compare as bytes on the host, with broadcasting against a
 * scalar; everything else goes to tfjs.
 */
function compare(node: GraphNode, equal: boolean): tf.Tensor {
  const [a, b] = node.inputs as [tf.Tensor, tf.Tensor];
  if (a.dtype !== 'string' && b.dtype !== 'string') return equal ? tf.equal(a, b) : tf.notEqual(a, b);
  if (a.dtype !== b.dtype) throw new StringOpError(`cannot compare ${a.dtype} with ${b.dtype}`);
  const [x, y] = [stringBytes(a), stringBytes(b)];
  const big = x.length >= y.length ? a : b;
  if (x.length !== y.length && Math.min(x.length, y.length) !== 1) {
    throw new StringOpError(`Incompatible shapes: [${a.shape.join(',')}] vs. [${b.shape.join(',')}]`);
  }
  const n = Math.max(x.length, y.length);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const same = Buffer.compare(x[x.length === 1 ? 0 : i]!, y[y.length === 1 ? 0 : i]!) === 0;
    out[i] = same === equal ? 1 : 0;
  }
  return tf.tensor(out, big.shape, 'bool');
}

/** Executors by op name, registered by registerCustomOps. */
export const STRING_OPS: Record<string, (node: GraphNode) => tf.Tensor | tf.Tensor[]> = {
  StringLower: (node) => changeCase(node, false),
  StringUpper: (node) => changeCase(node, true),
  StaticRegexReplace: staticRegexReplace,
  StringSplitV2: stringSplitV2,
  RaggedTensorToTensor: raggedTensorToTensor,
  Equal: (node) => compare(node, true),
  NotEqual: (node) => compare(node, false),
};
