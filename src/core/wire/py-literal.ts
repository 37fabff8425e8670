// The Python expressions `saved_model_cli run --input_exprs` / `--input_examples` take, read without Python: literals
// (numbers, True/False/None, 'strings', b'bytes', nested [lists] and (tuples), {dicts}) and the NumPy constructors
// people write there: np.ones(shape), np.zeros(shape), np.full(shape, v), np.random.rand(d0, d1, ...),
// np.array(literal), np.arange(n), each with an optional dtype=np.float32 / dtype='int64'. Anything else is refused
// with the expression and position named: nothing is evaluated (saved_model_cli itself now uses ast.literal_eval).
import { UsageError } from '../errors.js';
import { seededRandom } from '../prng.js';

/** NumPy dtype names tfsvc maps to TF dtypes. */
export const NUMPY_DTYPES: Record<string, string> = {
  float16: 'DT_HALF', float32: 'DT_FLOAT', float64: 'DT_DOUBLE', double: 'DT_DOUBLE', float: 'DT_DOUBLE',
  int8: 'DT_INT8', int16: 'DT_INT16', int32: 'DT_INT32', int64: 'DT_INT64', int: 'DT_INT64',
  uint8: 'DT_UINT8', uint16: 'DT_UINT16', uint32: 'DT_UINT32', uint64: 'DT_UINT64',
  bool: 'DT_BOOL', bool_: 'DT_BOOL', str: 'DT_STRING', bytes: 'DT_STRING', object: 'DT_STRING',
};

/** A dense array from an expression: row-major values and the dtype NumPy would give it. */
export interface NdArray {
  kind: 'ndarray';
  shape: number[];
  values: Array<number | bigint | boolean | Uint8Array>;
  /** A TF dtype name (NumPy's default: float64 for floats, int64 for ints, bool, bytes). */
  dtype: string;
}

/** Python ints are bigint, Python floats number. */
export type PyValue = number | bigint | boolean | null | string | Uint8Array | PyValue[] | { [k: string]: PyValue } | NdArray;

/** A tuple is a list with this mark (shapes are tuples). */
const TUPLE = Symbol('tuple');

class Parser {
  private i = 0;
  private random = seededRandom(0);
  constructor(private readonly s: string, private readonly where: string) {}

  fail(what: string): never {
    throw new UsageError(`${this.where}: ${what} at position ${this.i + 1} of "${this.s}"`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private eat(c: string): boolean {
    this.ws();
    if (this.s.startsWith(c, this.i)) {
      this.i += c.length;
      return true;
    }
    return false;
  }

  private expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected "${c}"`);
  }

  parseAll(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text');
    return v;
  }

  /** Comma-separated items up to `close`; a trailing comma is allowed. */
  private items<T>(close: string, item: () => T): T[] {
    const out: T[] = [];
    while (!this.eat(close)) {
      out.push(item());
      if (!this.eat(',')) {
        this.expect(close);
        break;
      }
    }
    return out;
  }

  value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') {
      this.i++;
      return this.items(']', () => this.value());
    }
    if (c === '(') {
      this.i++;
      const start = this.i;
      const list = this.items(')', () => this.value());
      // (x) is x; (x,) and () are tuples.
      if (list.length === 1 && !/,\s*\)$/.test(this.s.slice(start, this.i))) return list[0]!;
      return Object.assign(list, { [TUPLE]: true });
    }
    if (c === '{') {
      this.i++;
      const obj: { [k: string]: PyValue } = {};
      this.items('}', () => {
        const k = this.value();
        if (typeof k !== 'string') this.fail('dict keys must be strings');
        this.expect(':');
        obj[k] = this.value();
      });
      return obj;
    }
    if (c === "'" || c === '"') return this.str(false);
    if ((c === 'b' || c === 'B') && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
      this.i++;
      return this.str(true);
    }
    const num = /^[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      const t = num[0].replace(/_/g, '');
      // Python ints are BigInt (exact at any size, and told apart from floats: 1 is an int, 1.0 a float, as NumPy and
      // tf.Example feature lists distinguish them); Python floats are numbers.
      return /^[-+]?\d+$/.test(t) ? BigInt(t) : Number(t);
    }
    const word = /^[A-Za-z_][\w.]*/.exec(this.s.slice(this.i))?.[0];
    if (!word) this.fail('expected a value');
    this.i += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    if (/^(np|numpy)\.(inf|nan)$/.test(word)) return word.endsWith('inf') ? Infinity : NaN;
    return this.call(word);
  }

  private str(bytes: boolean): string | Uint8Array {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      let ch = this.s[this.i++]!;
      if (ch === '\\') {
        const e = this.s[this.i++];
        ch = e === 'n' ? '\n' : e === 't' ? '\t' : e === '0' ? '\0' : (e ?? '');
      }
      out += ch;
    }
    if (this.s[this.i] !== q) this.fail('unterminated string');
    this.i++;
    return bytes ? new TextEncoder().encode(out) : out;
  }

  /** np.<fn>(args, dtype=...). */
  private call(name: string): NdArray {
    const fn = name.replace(/^numpy\./, 'np.');
    const known = ['np.ones', 'np.zeros', 'np.full', 'np.random.rand', 'np.array', 'np.asarray', 'np.arange'];
    if (!known.includes(fn)) this.fail(`unsupported name "${name}" (known: ${known.join(', ')}, literals)`);
    this.expect('(');
    const args: PyValue[] = [];
    let dtype: string | undefined;
    this.items(')', () => {
      this.ws();
      const kw = /^dtype\s*=/.exec(this.s.slice(this.i));
      if (kw) {
        this.i += kw[0].length;
        this.ws();
        const d = /^(?:np\.|numpy\.)?([a-z_0-9]+)|^'([a-z_0-9]+)'|^"([a-z_0-9]+)"/.exec(this.s.slice(this.i));
        if (!d) this.fail('expected a dtype');
        this.i += d[0].length;
        const key = d[1] ?? d[2] ?? d[3]!;
        dtype = NUMPY_DTYPES[key];
        if (!dtype) this.fail(`unknown dtype "${key}"`);
        return;
      }
      args.push(this.value());
    });
    const shapeOf = (v: PyValue | undefined): number[] => {
      const dims = typeof v === 'bigint' ? [v] : Array.isArray(v) ? v : undefined;
      if (!dims || !dims.every((d) => typeof d === 'bigint' && d >= 0n)) this.fail(`${name}: the shape must be an int or a tuple of ints`);
      return (dims as bigint[]).map(Number);
    };
    const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const filled = (shape: number[], v: number | boolean, d: string): NdArray => ({ kind: 'ndarray', shape, values: new Array(count(shape)).fill(v), dtype: d });
    switch (fn) {
      case 'np.ones':
      case 'np.zeros':
        return filled(shapeOf(args[0]), fn === 'np.ones' ? 1 : 0, dtype ?? 'DT_DOUBLE');
      case 'np.full': {
        const v = args[1];
        if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean') this.fail('np.full: the fill value must be a number');
        const d = typeof v === 'boolean' ? 'DT_BOOL' : typeof v === 'bigint' ? 'DT_INT64' : 'DT_DOUBLE';
        return { kind: 'ndarray', shape: shapeOf(args[0]), values: new Array(count(shapeOf(args[0]))).fill(v), dtype: dtype ?? d };
      }
      case 'np.random.rand': {
        const shape = args.map((a) => shapeOf(a)[0]!);
        return { kind: 'ndarray', shape, values: Array.from({ length: count(shape) }, () => this.random()), dtype: 'DT_DOUBLE' };
      }
      case 'np.arange': {
        const n = args[0];
        if (typeof n !== 'bigint' || n < 0n) this.fail('np.arange: give a non-negative int');
        return { kind: 'ndarray', shape: [Number(n)], values: Array.from({ length: Number(n) }, (_, i) => BigInt(i)), dtype: dtype ?? 'DT_INT64' };
      }
      default: {
        const a = toNdArray(args[0] ?? null, this.where);
        return dtype ? { ...a, dtype } : a;
      }
    }
  }
}

/** Parses one expression. */
export function parsePyExpression(text: string, where: string): PyValue {
  return new Parser(text, where).parseAll();
}

/** A literal (number, nested lists, string) or NdArray as a dense array with NumPy's default dtype for it. */
export function toNdArray(v: PyValue, where: string): NdArray {
  if (v && typeof v === 'object' && 'kind' in v && (v as NdArray).kind === 'ndarray') return v as NdArray;
  const shape: number[] = [];
  let probe: PyValue = v;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0] as PyValue;
    if (probe === undefined) break;
  }
  const values: NdArray['values'] = [];
  const walk = (x: PyValue, depth: number): void => {
    if (depth < shape.length) {
      if (!Array.isArray(x) || x.length !== shape[depth]) throw new UsageError(`${where}: the nested lists are ragged (every list at depth ${depth + 1} must have ${shape[depth]} items)`);
      for (const e of x) walk(e as PyValue, depth + 1);
      return;
    }
    if (Array.isArray(x)) throw new UsageError(`${where}: the nested lists are ragged`);
    if (typeof x === 'string') values.push(new TextEncoder().encode(x));
    else if (x instanceof Uint8Array || typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') values.push(x);
    else throw new UsageError(`${where}: ${x === null ? 'None' : 'a dict'} cannot be an array element`);
  };
  walk(v, 0);
  const dtype = values.some((x) => x instanceof Uint8Array)
    ? 'DT_STRING'
    : values.some((x) => typeof x === 'number')
      ? 'DT_DOUBLE'
      : values.length > 0 && values.every((x) => typeof x === 'boolean')
        ? 'DT_BOOL'
        : values.length === 0
          ? 'DT_DOUBLE'
          : 'DT_INT64';
  return { kind: 'ndarray', shape, values, dtype };
}
