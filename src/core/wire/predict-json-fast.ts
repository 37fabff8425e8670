// The fast path of the :predict JSON decoder (predict-json.ts, its only caller in tfsvc): the common body (one float
// input, plain nested lists of JSON numbers) read in one pass over the request bytes straight into a typed array, with
// no JSON.parse, no intermediate arrays and no number objects. It answers only when it can prove the general decoder
// in predict-json.ts would produce the very same tensors; anything else (other dtypes, named instances, NaN/Infinity
// literals, strings, escapes, ragged or empty lists, duplicate or unknown keys, text after the document, malformed
// JSON...) returns undefined and predict-json.ts runs the general decoder, which owns every TF Serving error text. So
// this file never throws on bad input. Written by hand because it is the measured hot path (bench/json-codec.ts).
//
// Accepted documents (JSON whitespace anywhere between tokens):
//   {"instances": T}                       row format; T a non-empty list of instances, each a number or dense lists
//   {"inputs": T}  /  {"inputs": {"NAME": T}}   columnar format; T a number or dense nested lists
//   plus an optional "signature_name": "ASCII name without escapes", in any order.
// The signature must have exactly one input, of dtype DT_FLOAT or DT_DOUBLE (for `{"inputs": {"NAME": ...}}`, named
// NAME). Values are those JSON.parse gives (correctly rounded doubles), stored as float32 or float64.
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import type { PredictFormat } from './json-tensor.js';

export interface FastPredictRequest {
  /** The signature key the request names ('' in the body becomes `defaultSignature`). */
  signatureName: string;
  inputs: Record<string, HostTensor>;
  format: PredictFormat;
}

// Exact powers of ten (10^0 .. 10^22 are all exactly representable as doubles).
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;

/** Thrown to abandon the fast path; never escapes this module. */
const BAIL = Symbol('bail');

// Values are collected as doubles in a reused scratch buffer, then copied once into the tensor's own typed array (the
// dtype is known only once signature_name has been seen, which may come after the values). Buffers beyond
// SCRATCH_KEEP elements are not kept between requests.
const SCRATCH_KEEP = 1 << 20;
let scratch: Float64Array = new Float64Array(4096);

class Scanner {
  i = 0;
  n = 0;
  buf: Float64Array = scratch;
  /**
   * Lengths every list at each depth must have, relative to the root: -1 from when the first list at that depth opens
   * (lists open in document order, so depth d is reached first through the first element at depth d-1) until it
   * closes and sets the length.
   */
  shape: number[] = [];
  /** Depth of the leaves (numbers), known after the first one; -1 before. */
  leafDepth = -1;

  constructor(readonly b: Uint8Array) {}

  ws(): void {
    const b = this.b;
    let i = this.i;
    for (;;) {
      const c = b[i];
      if (c === SPACE || c === LF || c === CR || c === TAB) i++;
      else break;
    }
    this.i = i;
  }

  expect(c: number): void {
    this.ws();
    if (this.b[this.i] !== c) throw BAIL;
    this.i++;
  }

  /** A string without escapes or non-ASCII bytes (keys and signature names); anything else bails. */
  str(): string {
    this.ws();
    const b = this.b;
    if (b[this.i] !== QUOTE) throw BAIL;
    const start = ++this.i;
    let i = start;
    for (;;) {
      const c = b[i];
      if (c === QUOTE) break;
      if (c === undefined || c === 0x5c || c < 0x20 || c >= 0x80) throw BAIL;
      i++;
    }
    this.i = i + 1;
    return String.fromCharCode.apply(null, b.subarray(start, i) as unknown as number[]);
  }

  push(v: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = v;
  }

  /**
   * Values computed approximately (see num), as pairs: index in buf, offset of the literal in the body. settle()
   * makes them exact once the dtype is known.
   */
  approx: number[] = [];

  /**
   * A JSON number (strict grammar) as JSON.parse reads it, stored at buf[index]. Decimal literals of up to 15
   * significant digits with a decimal exponent within ±22 are computed exactly (Clinger's fast path: an integer below
   * 2^53 times or divided by an exact power of ten is one correctly rounded operation). Those of 16 to 19 digits in the
   * same range are computed approximately (relative error below 2^-49: at most 8 roundings while accumulating the
   * digits, one for the power of ten) and noted in `approx` for settle(). They are the usual case, not a rare one:
   * a float32 printed by Python's json (np.float32(0.1) → 0.10000000149011612) or JavaScript has 16 or 17 digits, and
   * Number() on each of them cost 4x the rest of the decode (bench/json-codec.ts, 17-digit row). Others go through
   * Number().
   */
  num(index: number): number {
    const b = this.b;
    let i = this.i;
    const start = i;
    let neg = false;
    if (b[i] === MINUS) {
      neg = true;
      i++;
    }
    let c = b[i]!;
    let m = 0;
    let sig = 0;
    if (c === ZERO) {
      c = b[++i]!;
      if (c >= ZERO && c <= NINE) throw BAIL; // a leading zero: not JSON
    } else if (c > ZERO && c <= NINE) {
      while (c >= ZERO && c <= NINE) {
        sig++;
        m = m * 10 + (c - ZERO);
        c = b[++i]!;
      }
    } else {
      throw BAIL; // NaN, Infinity, strings, objects, true/false/null, '.5', '+1'...
    }
    let frac = 0;
    if (c === DOT) {
      c = b[++i]!;
      if (!(c >= ZERO && c <= NINE)) throw BAIL;
      while (c >= ZERO && c <= NINE) {
        if (m !== 0 || c !== ZERO) sig++;
        m = m * 10 + (c - ZERO);
        frac++;
        c = b[++i]!;
      }
    }
    let exp = 0;
    let expDigits = 0;
    if (c === 0x65 || c === 0x45) {
      c = b[++i]!;
      let expNeg = false;
      if (c === MINUS || c === PLUS) {
        expNeg = c === MINUS;
        c = b[++i]!;
      }
      if (!(c >= ZERO && c <= NINE)) throw BAIL;
      while (c >= ZERO && c <= NINE) {
        if (expDigits < 6) exp = exp * 10 + (c - ZERO);
        expDigits++;
        c = b[++i]!;
      }
      if (expNeg) exp = -exp;
    }
    this.i = i;
    const e10 = exp - frac;
    let v: number;
    if (sig <= 19 && expDigits < 6 && e10 >= -22 && e10 <= 22) {
      v = e10 >= 0 ? m * POW10[e10]! : m / POW10[-e10]!;
      if (neg) v = -v;
      if (sig > 15) this.approx.push(index, start);
    } else {
      v = Number(String.fromCharCode.apply(null, b.subarray(start, i) as unknown as number[]));
      // JSON.parse gives ±Infinity for 1e400 where TF Serving's parser refuses it: leave that to the general path.
      if (!Number.isFinite(v)) throw BAIL;
    }
    return v;
  }

  /**
   * A tensor value at `depth` (0: the root of one instance, or of the whole columnar value): a number or a dense nest
   * of lists. Every list at a depth must have the same length and every leaf the same depth (what TF Serving's
   * GetDenseTensorShape + FillTensorProto check); empty lists bail.
   */
  tensor(depth: number): void {
    this.ws();
    const b = this.b;
    if (b[this.i] !== LBRACKET) {
      if (this.leafDepth < 0) this.leafDepth = depth;
      else if (this.leafDepth !== depth) throw BAIL;
      this.push(this.num(this.n));
      return;
    }
    if (this.leafDepth >= 0 && depth >= this.leafDepth) throw BAIL;
    const shape = this.shape;
    if (shape.length === depth) shape.push(-1);
    this.i++;
    this.ws();
    if (b[this.i] === RBRACKET) throw BAIL;
    let count = 0;
    // Innermost lists are the bulk of any tensor: read their numbers in a tight loop.
    if (b[this.i] !== LBRACKET && (this.leafDepth < 0 || this.leafDepth === depth + 1)) {
      this.leafDepth = depth + 1;
      count = this.leafList();
    } else if (this.leafDepth === depth + 2 && shape.length > depth + 1 && shape[depth + 1]! > 0) {
      // Lists of innermost lists whose length is known (e.g. the 28x28x1 pixels of a CNN input: 784 one-number
      // lists): read each child list here rather than through a recursive call.
      const inner = shape[depth + 1]!;
      for (;;) {
        if (b[this.i] !== LBRACKET) throw BAIL;
        this.i++;
        this.ws();
        if (this.leafList() !== inner) throw BAIL;
        this.i++;
        count++;
        this.ws();
        const c = b[this.i];
        if (c === COMMA) {
          this.i++;
          this.ws();
          continue;
        }
        if (c === RBRACKET) break;
        throw BAIL;
      }
    } else {
      for (;;) {
        this.tensor(depth + 1);
        count++;
        this.ws();
        const c = b[this.i];
        if (c === COMMA) {
          this.i++;
          continue;
        }
        if (c === RBRACKET) break;
        throw BAIL;
      }
    }
    this.i++;
    const known = shape[depth];
    if (known === -1) shape[depth] = count;
    else if (known !== count) throw BAIL;
  }

  /**
   * The numbers of an innermost list, from its first element through its ']' (left at this.i); returns their count.
   * Local variables only: this loop reads nearly every byte of a typical body.
   */
  leafList(): number {
    const b = this.b;
    let buf = this.buf;
    let n = this.n;
    let count = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = new Float64Array(buf.length * 2);
        bigger.set(buf);
        this.buf = buf = bigger;
      }
      buf[n] = this.num(n);
      n++;
      count++;
      let i = this.i;
      let c = b[i];
      while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
      if (c === COMMA) {
        c = b[++i];
        while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
        this.i = i;
        continue;
      }
      this.i = i;
      if (c === RBRACKET) break;
      throw BAIL;
    }
    this.n = n;
    return count;
  }

  /**
   * Makes the approximated values exact for the tensor they go into. float32: the approximation v (within 2^-49 of
   * the literal) and the correctly rounded double (within 2^-53) are within 2^-48 of each other, so the exact double
   * lies inside v·(1 ± 2^-44); when both ends of that bracket round to the same float32, so does the exact value
   * (rounding is monotonic), and the approximation is kept; only a literal
   * within 2^-44 of a float32 rounding boundary (about one in a million) is re-read with Number(). float64: every
   * approximated value is re-read.
   */
  settle(float32: boolean): void {
    const a = this.approx;
    const buf = this.buf;
    const b = this.b;
    for (let k = 0; k < a.length; k += 2) {
      const v = buf[a[k]!]!;
      if (float32 && Math.fround(v * (1 - 2 ** -44)) === Math.fround(v * (1 + 2 ** -44))) continue;
      const start = a[k + 1]!;
      let end = start;
      for (;;) {
        const c = b[end];
        if (c === undefined || !((c >= ZERO && c <= NINE) || c === MINUS || c === PLUS || c === DOT || c === 0x65 || c === 0x45)) break;
        end++;
      }
      buf[a[k]!] = Number(String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]));
    }
  }

  /** The instances list of the row format: each element is one instance at depth 0. Returns the instance count. */
  instances(): number {
    this.ws();
    const b = this.b;
    if (b[this.i] !== LBRACKET) throw BAIL;
    this.i++;
    this.ws();
    if (b[this.i] === RBRACKET) throw BAIL;
    let count = 0;
    for (;;) {
      this.ws();
      if (b[this.i] === LBRACE) throw BAIL; // named inputs per instance: the general path
      this.tensor(0);
      count++;
      this.ws();
      const c = b[this.i];
      if (c === COMMA) {
        this.i++;
        continue;
      }
      if (c === RBRACKET) break;
      throw BAIL;
    }
    this.i++;
    return count;
  }
}

function floatInput(signature: SignatureInfo | undefined): [string, string] | undefined {
  if (!signature) return undefined;
  let found: [string, string] | undefined;
  for (const name in signature.inputs) {
    if (found) return undefined; // several inputs
    const dtype = signature.inputs[name]!.dtype;
    if (dtype !== 'DT_FLOAT' && dtype !== 'DT_DOUBLE') return undefined;
    found = [name, dtype];
  }
  return found;
}

/**
 * Decodes `body` when it is the common case described above, for the signatures of the servable it was sent to;
 * undefined otherwise (then predict-json.ts runs the general decoder). Takes no ownership of `body`.
 */
export function decodePredictFast(
  body: Uint8Array,
  signatures: Record<string, SignatureInfo>,
  defaultSignature: string,
  /**
   * When it returns undefined: `offset`, where the scan stopped; `whole`, whether the body was read to its end as
   * well-formed JSON (it then stepped aside for what the body holds, not for its syntax).
   */
  stop?: { offset: number; whole: boolean },
): FastPredictRequest | undefined {
  const s = new Scanner(body);
  try {
    let signatureName: string | undefined;
    let format: PredictFormat | undefined;
    let inputName: string | undefined;
    let rows = -1;
    s.expect(LBRACE);
    for (;;) {
      const key = s.str();
      s.expect(COLON);
      if (key === 'signature_name') {
        if (signatureName !== undefined) throw BAIL;
        signatureName = s.str();
      } else if (key === 'instances' || key === 'inputs') {
        if (format !== undefined) throw BAIL; // both keys (an error) or a duplicate: the general path decides
        if (key === 'instances') {
          format = 'row';
          rows = s.instances();
        } else {
          format = 'columnar';
          s.ws();
          if (s.b[s.i] === LBRACE) {
            s.i++;
            inputName = s.str();
            s.expect(COLON);
            s.tensor(0);
            s.expect(RBRACE);
          } else {
            s.tensor(0);
          }
        }
      } else {
        throw BAIL;
      }
      s.ws();
      const c = body[s.i];
      if (c === COMMA) {
        s.i++;
        continue;
      }
      if (c === RBRACE) break;
      throw BAIL;
    }
    s.i++;
    s.ws();
    if (s.i !== body.length || format === undefined) throw BAIL;
    if (stop) stop.whole = true;

    const name = signatureName || defaultSignature;
    const input = floatInput(Object.prototype.hasOwnProperty.call(signatures, name) ? signatures[name] : undefined);
    if (!input || (inputName !== undefined && inputName !== input[0])) throw BAIL;
    const shape = s.leafDepth === s.shape.length ? s.shape : undefined;
    if (!shape) throw BAIL;
    if (s.approx.length > 0) s.settle(input[1] === 'DT_FLOAT');
    const values = s.buf.subarray(0, s.n);
    const data = input[1] === 'DT_FLOAT' ? new Float32Array(s.n) : new Float64Array(s.n);
    data.set(values);
    return {
      signatureName: name,
      inputs: { [input[0]]: { dtype: input[1], shape: rows >= 0 ? [rows, ...shape] : shape.slice(), data } },
      format,
    };
  } catch {
    // BAIL, or a RangeError from lists nested thousands deep: the general path answers (with TF Serving's errors).
    if (stop) stop.offset = s.i;
    return undefined;
  } finally {
    // Keep a grown scratch buffer for the next request, unless it got very large.
    if (s.buf !== scratch && s.buf.length <= SCRATCH_KEEP) scratch = s.buf;
  }
}
