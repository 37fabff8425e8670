// Writes JSON text byte for byte like rapidjson's PrettyWriter, which TF Serving uses for every predict, classify,
// regress and error response. Its layout is visible to clients (e.g. `{"predictions": [2.5, 3.0]}` comes out as
// "{\n    \"predictions\": [2.5, 3.0\n    ]\n}") because TF Serving switches the single-line-array option on and off
// mid-document; this class reproduces that state machine: 4-space indent, ": " after keys, "," + newline between
// members, and inside arrays either "," + newline + indent or ", " when single-line mode is on at the time of the call.
import { JsonNumber, jsonTypeName } from './json-parse.js';

interface Level {
  inArray: boolean;
  count: number;
}

/** Indentation by depth, 4 spaces a level (precomputed for the depths any tensor response reaches). */
const INDENTS = Array.from({ length: 16 }, (_, d) => ' '.repeat(4 * d));

export class PrettyJsonWriter {
  // Appending to one string (V8 builds a rope and flattens it once) is cheaper than collecting parts and joining.
  private out = '';
  private readonly stack: Level[] = [];
  /** rapidjson's kFormatSingleLineArray, read at each call like rapidjson does. */
  singleLineArrays = false;

  /** Characters written so far (TF Serving truncates debug strings by this). */
  get length(): number {
    return this.out.length;
  }

  private put(s: string): void {
    this.out += s;
  }

  private indent(): void {
    const depth = this.stack.length;
    if (depth > 0) this.out += depth < INDENTS.length ? INDENTS[depth]! : ' '.repeat(4 * depth);
  }

  private prefix(): void {
    const level = this.stack[this.stack.length - 1];
    if (!level) return;
    if (level.inArray) {
      if (level.count > 0) this.put(this.singleLineArrays ? ', ' : ',');
      if (!this.singleLineArrays) {
        this.put('\n');
        this.indent();
      }
    } else {
      if (level.count > 0) this.put(level.count % 2 === 0 ? ',\n' : ': ');
      else this.put('\n');
      if (level.count % 2 === 0) this.indent();
    }
    level.count++;
  }

  startObject(): void {
    this.prefix();
    this.stack.push({ inArray: false, count: 0 });
    this.put('{');
  }

  endObject(): void {
    const level = this.stack.pop()!;
    if (level.count > 0) {
      this.put('\n');
      this.indent();
    }
    this.put('}');
  }

  startArray(): void {
    this.prefix();
    this.stack.push({ inArray: true, count: 0 });
    this.put('[');
  }

  endArray(): void {
    const level = this.stack.pop()!;
    if (level.count > 0 && !this.singleLineArrays) {
      this.put('\n');
      this.indent();
    }
    this.put(']');
  }

  key(name: string): void {
    this.prefix();
    this.put(quoteJsonString(name));
  }

  string(value: string): void {
    this.prefix();
    this.put(quoteJsonString(value));
  }

  /** A number (or NaN/Infinity literal) already formatted. */
  raw(text: string): void {
    this.prefix();
    this.put(text);
  }

  bool(value: boolean): void {
    this.raw(value ? 'true' : 'false');
  }

  null(): void {
    this.raw('null');
  }

  toString(): string {
    return this.out;
  }
}

// rapidjson's escape table: control characters as \b \t \n \f \r or \u00XX (upper-case hex), '"' and '\\'.
// Everything else, '/' and non-ASCII included, is written as is.
const ESCAPE_RE = /["\\\u0000-\u001f]/;
const ESCAPE_RE_G = /["\\\u0000-\u001f]/g;
const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

/** `s` as a JSON string literal, escaped exactly like rapidjson's Writer. */
export function quoteJsonString(s: string): string {
  if (!ESCAPE_RE.test(s)) return `"${s}"`;
  return `"${s.replace(ESCAPE_RE_G, (c) => SHORT_ESCAPES[c] ?? `\\u00${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}"`;
}

/**
 * A double as rapidjson's Writer::Double prints it (Grisu shortest digits; "1.0" for integral values; exponent form
 * "1e21"/"1.5e-7" without '+' outside [1e-6, 1e21)). Used for numbers echoed back in error messages.
 */
export function rapidjsonDouble(d: number): string {
  if (Object.is(d, -0)) return '-0.0';
  if (d === 0) return '0.0';
  const neg = d < 0;
  const [mant, expPart] = Math.abs(d).toExponential().split('e');
  const digits = mant.replace('.', '');
  const length = digits.length;
  const exp10 = Number(expPart); // value = 0.d1d2... * 10^(exp10+1)
  const kk = exp10 + 1; // 10^(kk-1) <= v < 10^kk
  const k = kk - length;
  let s: string;
  if (k >= 0 && kk <= 21) s = digits + '0'.repeat(k) + '.0';
  else if (kk > 0 && kk <= 21) s = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -6 && kk <= 0) s = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) s = `${digits}e${kk - 1}`;
  else s = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return neg ? `-${s}` : s;
}

const MAX_DEBUG_CHARS = 256;

/**
 * A JSON value as TF Serving quotes it in error messages (JsonValueToDebugString): PrettyWriter with single-line
 * arrays, cut off once 256 characters have been written (the token in progress is completed, so the text may be
 * slightly longer and is usually not valid JSON).
 */
export function jsonDebugString(v: unknown): string {
  const w = new PrettyJsonWriter();
  w.singleLineArrays = true;
  writeDebug(w, v);
  return w.toString();
}

function writeDebug(w: PrettyJsonWriter, v: unknown): boolean {
  if (w.length >= MAX_DEBUG_CHARS) return false;
  switch (jsonTypeName(v)) {
    case 'Null':
      w.null();
      return true;
    case 'True':
    case 'False':
      w.bool(v as boolean);
      return true;
    case 'String':
      w.string(v as string);
      return true;
    case 'Number': {
      if (v instanceof JsonNumber) {
        w.raw(v.isInteger ? v.text : rapidjsonDouble(v.value));
      } else {
        const n = v as number;
        // rapidjson's Writer refuses NaN/Infinity without kWriteNanAndInfFlag: the debug string stops there.
        if (!Number.isFinite(n)) return false;
        w.raw(Number.isInteger(n) ? String(n) : rapidjsonDouble(n));
      }
      return true;
    }
    case 'Array': {
      w.startArray();
      for (const e of v as unknown[]) if (!writeDebug(w, e)) return false;
      if (w.length >= MAX_DEBUG_CHARS) return false;
      w.endArray();
      return true;
    }
    default: {
      w.startObject();
      for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
        if (w.length >= MAX_DEBUG_CHARS) return false;
        w.key(k);
        if (!writeDebug(w, e)) return false;
      }
      if (w.length >= MAX_DEBUG_CHARS) return false;
      w.endObject();
      return true;
    }
  }
}
