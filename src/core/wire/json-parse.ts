// Request-body JSON parsing with TF Serving's rules. TF Serving parses bodies with rapidjson (kParseNanAndInfFlag |
// kParseStopWhenDoneFlag), which differs from JSON.parse in ways clients can see:
//  - NaN, Infinity and -Infinity literals are numbers;
//  - anything after the first complete value is ignored ("{...}X" parses);
//  - a number keeps its kind: `1` is an integer, `1.0` and `1e0` are doubles. A DT_INT32 input rejects `1.0`, and a
//    tf.Example feature becomes an int64_list for `80` but a float_list for `80.0`;
//  - integers beyond 2^53 keep every digit (int64/uint64 inputs);
//  - syntax errors read "JSON Parse error: <rapidjson message> at offset: <byte offset>".
//
// Contract: `parseJsonBody` returns plain JSON values (objects, arrays, strings, booleans, null, numbers) except that
// a number whose kind JS cannot tell apart is a `JsonNumber`: a double literal with an integral value (`1.0`), or an
// integer literal that is not a safe JS integer. Consumers read numbers through `jsonNumberInfo`.
// The common case (valid JSON) goes through the native JSON.parse; the precise parse runs only when a decoder needs
// number kinds (integer dtypes, tf.Example features) or JSON.parse rejects the text.
import { RequestError } from '../errors.js';

/** A JSON number whose kind or digits a JS number cannot carry. */
export class JsonNumber {
  constructor(
    /** The literal as written (for int64/uint64 digits). */
    readonly text: string,
    /** The value as a double (what rapidjson's GetDouble returns). */
    readonly value: number,
    /** True for an integer literal (no fraction, no exponent) that fits in uint64/int64; false for a double. */
    readonly isInteger: boolean,
  ) {}
}

export type JsonValue = null | boolean | number | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

/** What rapidjson knows about a number: kind and the integer ranges it fits. */
export interface NumberInfo {
  value: number;
  /** Integer literal (rapidjson's IsInt64 || IsUint64); false for doubles. */
  isInteger: boolean;
  /** Exact integer value when `isInteger`. */
  big?: bigint;
}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Kind and value of a number in a parsed body, or undefined when `v` is not a number. */
export function jsonNumberInfo(v: unknown): NumberInfo | undefined {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return { value: v, isInteger: true, big: BigInt(v) };
    return { value: v, isInteger: false };
  }
  if (v instanceof JsonNumber) {
    return v.isInteger ? { value: v.value, isInteger: true, big: BigInt(v.text) } : { value: v.value, isInteger: false };
  }
  return undefined;
}

export const isInt32 = (n: NumberInfo): boolean => n.isInteger && n.big! >= INT32_MIN && n.big! <= INT32_MAX;
export const isInt64 = (n: NumberInfo): boolean => n.isInteger && n.big! >= INT64_MIN && n.big! <= INT64_MAX;
export const isUint32 = (n: NumberInfo): boolean => n.isInteger && n.big! >= 0n && n.big! <= UINT32_MAX;
export const isUint64 = (n: NumberInfo): boolean => n.isInteger && n.big! >= 0n && n.big! <= UINT64_MAX;

/** rapidjson's type names as TF Serving prints them in errors. */
export function jsonTypeName(v: unknown): 'Null' | 'False' | 'True' | 'Object' | 'Array' | 'String' | 'Number' {
  if (v === null || v === undefined) return 'Null';
  if (v === false) return 'False';
  if (v === true) return 'True';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number' || v instanceof JsonNumber) return 'Number';
  if (Array.isArray(v)) return 'Array';
  return 'Object';
}

/** A plain JSON object (not an array, not a JsonNumber). */
export function isJsonObject(v: unknown): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

// The raw text behind each body parsed by parseJsonBody, so decoders can re-parse precisely when they need kinds.
const rawText = new WeakMap<object, string>();
// Bodies that already came from the precise parser.
const precise = new WeakSet<object>();

/**
 * Parses an HTTP request body the way TF Serving does. Throws RequestError(INVALID_ARGUMENT) with TF Serving's text on
 * malformed JSON. Does not check that the top level is an object (the decoders do, with TF Serving's message).
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new RequestError('INVALID_ARGUMENT', 'JSON Parse error: The document is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // NaN/Infinity, trailing garbage, or a real syntax error: the precise parser tells which.
    return parsePrecise(text);
  }
  if (typeof value === 'object' && value !== null) rawText.set(value, text);
  return value;
}

/**
 * The body with number kinds preserved (see the module comment). Bodies from JSON.parse are re-parsed from their
 * text; values built in code (no text) are returned as they are, JS numbers standing for their own kind.
 */
export function preciseBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || precise.has(body)) return body;
  const text = rawText.get(body);
  return text === undefined ? body : parsePrecise(text);
}

/**
 * Throws the RequestError parsePrecise would throw for `text`, without building the document. For a large body that
 * is broken near its end, JSON.parse (and then the precise parse) would build the whole document before failing: a
 * 50 MB body became hundreds of MB of arrays that V8's collector threads then spent ~100 ms on, taking the core from
 * other clients' requests (bench/chaos, huge body phase). The check keeps no values, so it leaves almost no garbage.
 */
export function checkJsonSyntax(text: string): void {
  new Parser(text, false).parseDocument();
}

/** Parses `text` keeping number kinds; errors as TF Serving words them. */
export function parsePrecise(text: string): JsonValue {
  const value = new Parser(text).parseDocument();
  if (typeof value === 'object' && value !== null) precise.add(value);
  return value;
}

class ParseError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** A JSON parser (iterative, explicit stack) mirroring rapidjson's accepted language and error messages/offsets. */
class Parser {
  private i = 0;
  // Offsets are in bytes of UTF-8 (what rapidjson reports); computed lazily only when an error occurs.
  constructor(
    private readonly s: string,
    /** false: only check the text (same errors, same offsets) without keeping the values it reads. */
    private readonly build = true,
  ) {}

  parseDocument(): JsonValue {
    try {
      this.skipWs();
      if (this.i >= this.s.length) throw new ParseError('The document is empty.', this.i);
      const v = this.parseValue();
      // kParseStopWhenDoneFlag: whatever follows the root value is ignored.
      return v;
    } catch (e) {
      if (e instanceof ParseError) {
        const offset = Buffer.byteLength(this.s.slice(0, e.offset), 'utf8');
        throw new RequestError('INVALID_ARGUMENT', `JSON Parse error: ${e.reason} at offset: ${offset}`);
      }
      throw e;
    }
  }

  private skipWs(): void {
    const s = this.s;
    while (this.i < s.length && WS.has(s.charCodeAt(this.i))) this.i++;
  }

  /**
   * One JSON value, iteratively (an explicit stack, like rapidjson's kParseIterativeFlag) so that deeply nested
   * documents cannot overflow the JS stack.
   */
  private parseValue(): JsonValue {
    type Frame = { arr?: JsonValue[]; obj?: Record<string, JsonValue>; key?: string };
    const stack: Frame[] = [];
    const s = this.s;
    for (;;) {
      // Parse a value start; containers push a frame and continue with their first member.
      let value: JsonValue;
      let haveValue = true;
      const c = s[this.i];
      if (c === '{') {
        this.i++;
        this.skipWs();
        if (s[this.i] === '}') {
          this.i++;
          value = {};
        } else {
          stack.push({ obj: {}, key: this.parseKey() });
          this.skipWs();
          haveValue = false;
        }
      } else if (c === '[') {
        this.i++;
        this.skipWs();
        if (s[this.i] === ']') {
          this.i++;
          value = [];
        } else {
          stack.push({ arr: [] });
          haveValue = false;
        }
      } else {
        value = this.parseScalar();
      }
      if (!haveValue) continue;
      // Attach the finished value to enclosing containers, closing every container that ends here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top) return value!;
        if (top.arr) {
          if (this.build) top.arr.push(value!);
          this.skipWs();
          const d = s[this.i];
          if (d === ',') {
            this.i++;
            this.skipWs();
            break;
          }
          if (d !== ']') throw new ParseError("Missing a comma or ']' after an array element.", this.i);
          this.i++;
          stack.pop();
          value = top.arr;
        } else {
          const obj = top.obj!;
          // rapidjson keeps duplicate members and FindMember returns the first one.
          if (this.build && !Object.prototype.hasOwnProperty.call(obj, top.key!)) {
            Object.defineProperty(obj, top.key!, { value: value!, enumerable: true, writable: true, configurable: true });
          }
          this.skipWs();
          const d = s[this.i];
          if (d === ',') {
            this.i++;
            this.skipWs();
            top.key = this.parseKey();
            this.skipWs();
            break;
          }
          if (d !== '}') throw new ParseError("Missing a comma or '}' after an object member.", this.i);
          this.i++;
          stack.pop();
          value = obj;
        }
      }
    }
  }

  /** An object member's name and the colon after it; leaves the position at the member's value. */
  private parseKey(): string {
    if (this.s[this.i] !== '"') throw new ParseError('Missing a name for object member.', this.i);
    const key = this.parseString();
    this.skipWs();
    if (this.s[this.i] !== ':') throw new ParseError('Missing a colon after a name of object member.', this.i);
    this.i++;
    this.skipWs();
    return key;
  }

  private parseScalar(): JsonValue {
    switch (this.s[this.i]) {
      case '"':
        return this.parseString();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', NaN);
      case 'I':
        return this.literal('Infinity', Infinity);
      default:
        return this.parseNumber();
    }
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return value;
    }
    // rapidjson consumes the matching prefix and reports the first character that differs.
    let k = 1;
    while (k < word.length && this.s[this.i + k] === word[k]) k++;
    throw new ParseError('Invalid value.', this.i + k);
  }

  private parseString(): string {
    const s = this.s;
    const start = ++this.i; // past '"'
    // Fast path: no escapes.
    let j = start;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        this.i = j + 1;
        return s.slice(start, j);
      }
      if (c === 0x5c || c < 0x20) break;
    }
    let out = s.slice(start, j);
    this.i = j;
    for (;;) {
      if (this.i >= s.length) throw new ParseError('Missing a closing quotation mark in string.', this.i);
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return out;
      }
      if (c < 0x20) {
        if (c === 0) throw new ParseError('Missing a closing quotation mark in string.', this.i);
        throw new ParseError('Invalid encoding in string.', this.i);
      }
      if (c !== 0x5c) {
        out += s[this.i++];
        continue;
      }
      const escStart = this.i;
      const e = s[this.i + 1];
      this.i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hi = this.hex4();
          if (hi >= 0xd800 && hi <= 0xdbff) {
            if (s[this.i] !== '\\' || s[this.i + 1] !== 'u') {
              throw new ParseError('The surrogate pair in string is invalid.', this.i);
            }
            this.i += 2;
            const lo = this.hex4();
            if (lo < 0xdc00 || lo > 0xdfff) throw new ParseError('The surrogate pair in string is invalid.', this.i);
            out += String.fromCharCode(hi, lo);
          } else {
            out += String.fromCharCode(hi);
          }
          break;
        }
        default:
          throw new ParseError('Invalid escape character in string.', escStart);
      }
    }
  }

  private hex4(): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.s.charCodeAt(this.i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else throw new ParseError('Incorrect hex digit after \\u escape in string.', this.i);
      v = v * 16 + d;
      this.i++;
    }
    return v;
  }

  private parseNumber(): JsonValue {
    const s = this.s;
    const start = this.i;
    let j = this.i;
    const minus = s[j] === '-';
    if (minus) j++;
    if (s.startsWith('Infinity', j) && minus) {
      this.i = j + 8;
      return -Infinity;
    }
    const isDigit = (k: number) => k < s.length && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x39;
    if (s[j] === '0') {
      j++;
    } else if (isDigit(j)) {
      while (isDigit(j)) j++;
    } else {
      throw new ParseError('Invalid value.', this.i);
    }
    let isInteger = true;
    if (s[j] === '.') {
      isInteger = false;
      j++;
      if (!isDigit(j)) throw new ParseError('Miss fraction part in number.', j);
      while (isDigit(j)) j++;
    }
    if (s[j] === 'e' || s[j] === 'E') {
      isInteger = false;
      j++;
      if (s[j] === '+' || s[j] === '-') j++;
      if (!isDigit(j)) throw new ParseError('Miss exponent in number.', j);
      while (isDigit(j)) j++;
    }
    this.i = j;
    const text = s.slice(start, j);
    const value = Number(text);
    if (isInteger) {
      // rapidjson keeps integers that fit int64 (negative) or uint64 (positive); larger ones become doubles.
      if (Number.isSafeInteger(value)) return minus && value === 0 ? 0 : value;
      const big = BigInt(text);
      const fits = minus ? big >= INT64_MIN : big <= UINT64_MAX;
      return new JsonNumber(text, value, fits);
    }
    if (!Number.isFinite(value)) throw new ParseError('Number too big to be stored in double.', start);
    return Number.isInteger(value) ? new JsonNumber(text, value, false) : value;
  }
}
