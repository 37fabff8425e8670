// Protocol Buffers text format (what TF Serving's config files and saved_model.pbtxt are written in), parsed into the
// same plain-object shape as `decodePlain` (src/core/proto/schema.ts): camelCase field names, int64 as numbers, enums
// as names, bytes as Buffers, repeated fields as arrays, map fields as objects. A protobufjs Type guides the parse, so a
// repeated field written once is still an array, a message is parsed as a message and an unknown field is an error
// that names the line and column, instead of a silently ignored typo.
//
// Two modes, as in protobuf's own TextFormat::Parser:
//  - strict (the default, for TF Serving's config files): an unknown field is an error naming it, as TF Serving
//    reports a typo in --model_config_file;
//  - `skipUnknownFields` (for saved_model.pbtxt): fields tfsvc's schema (proto/tensorflow.proto) leaves out are
//    skipped, whatever their value (scalar, string list, `[...]` list, nested message), the way decoding the binary
//    saved_model.pb drops them. Real TF-written pbtxt files carry many (function_spec.fullargspec contents,
//    experimental_debug_info, fields newer than the schema).
//
// Grammar accepted (protobuf's text_format): `name: value`, `name { ... }`, `name: { ... }`, `name < ... >`,
// `name: [v1, v2]` for repeated fields, optional `,`/`;` separators, `#` comments, adjacent string concatenation,
// C escapes in strings, numbers in decimal/hex/octal/float (`inf`, `nan`, `1.5f`), enums by name or number,
// `true/false/t/f/True/False/1/0` for bools, and `[type.googleapis.com/x.Y] { ... }` Any expansions: inside a
// message named Any whose type x.Y is in the schema, the expansion becomes `{ typeUrl, value: <x.Y encoded> }` as in
// the binary form; otherwise (and for `[extension]` fields) it is skipped in both modes.
//
// `formatTextProto` writes the same plain objects back as text format (field-number order, map keys sorted, strings
// C-escaped, Any expanded), as Python's text_format.MessageToString prints a SavedModel.
import protobuf from 'protobufjs';

export interface TextParseOptions {
  /** Skip fields the message type does not have instead of throwing (see the file comment). Default false. */
  skipUnknownFields?: boolean;
}

export class TextFormatError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(`${line}:${column}: ${message}`);
    this.name = 'TextFormatError';
  }
}

type Token = { kind: 'ident' | 'number' | 'string' | 'punct'; text: string; value?: string | Buffer; line: number; col: number };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') { line++; i++; lineStart = i; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '#') { while (i < src.length && src[i] !== '\n') i++; continue; }
    const col = i - lineStart + 1;
    if (c === '"' || c === "'") {
      const bytes: number[] = [];
      let j = i + 1;
      for (;;) {
        if (j >= src.length || src[j] === '\n') throw new TextFormatError('unterminated string', line, col);
        const ch = src[j]!;
        if (ch === c) { j++; break; }
        if (ch === '\\') {
          const e = src[j + 1];
          j += 2;
          const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
          if (e !== undefined && e in simple) bytes.push(simple[e]!);
          else if (e === 'x' || e === 'X') {
            const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(j));
            if (!m) throw new TextFormatError('bad \\x escape', line, col);
            bytes.push(parseInt(m[0], 16));
            j += m[0].length;
          } else if (e !== undefined && /[0-7]/.test(e)) {
            const m = /^[0-7]{1,3}/.exec(src.slice(j - 1))!;
            bytes.push(parseInt(m[0], 8) & 0xff);
            j += m[0].length - 1;
          } else if (e === 'u' || e === 'U') {
            const n = e === 'u' ? 4 : 8;
            const hex = src.slice(j, j + n);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw new TextFormatError('bad unicode escape', line, col);
            bytes.push(...Buffer.from(String.fromCodePoint(parseInt(hex, 16)), 'utf8'));
            j += n;
          } else throw new TextFormatError(`unknown escape \\${e ?? ''}`, line, col);
          continue;
        }
        const cp = src.codePointAt(j)!;
        const s = String.fromCodePoint(cp);
        bytes.push(...Buffer.from(s, 'utf8'));
        j += s.length;
      }
      tokens.push({ kind: 'string', text: src.slice(i, j), value: Buffer.from(bytes), line, col });
      i = j;
      continue;
    }
    const num = /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|inf(?:inity)?|nan)(?![\w.])/i.exec(src.slice(i));
    if (num && (c === '-' || c === '.' || /\d/.test(c))) {
      tokens.push({ kind: 'number', text: num[0], line, col });
      i += num[0].length;
      continue;
    }
    if (c === '-' && /^-\s*(inf|infinity|nan)\b/i.test(src.slice(i))) {
      const m = /^-\s*(inf|infinity|nan)/i.exec(src.slice(i))!;
      tokens.push({ kind: 'number', text: '-' + m[1], line, col });
      i += m[0].length;
      continue;
    }
    const id = /^[A-Za-z_][\w]*/.exec(src.slice(i));
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], line, col });
      i += id[0].length;
      continue;
    }
    if ('{}<>[]:,;/.'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line, col });
      i++;
      continue;
    }
    throw new TextFormatError(`unexpected character ${JSON.stringify(c)}`, line, col);
  }
  return tokens;
}

const INT_TYPES = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32', 'int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const INT64_TYPES = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

/**
 * Whether `field` holds 64-bit integers that must stay exact: TensorProto's int64_val/uint64_val are tensor values,
 * any 64-bit integer (hashes, ids, int64 max sentinels), which a float64 number rounds beyond 2^53. They parse like
 * decodePlain decodes them (schema.ts): a number when it is exact, else the exact decimal string, which
 * tensorProtoToHost reads back exactly. Other int64 fields (shapes, sizes) stay numbers.
 */
function exactInt64Field(field: protobuf.Field): boolean {
  return INT64_TYPES.has(field.type) && field.parent instanceof protobuf.Type && field.parent.fullName === '.tensorflow.TensorProto';
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase());
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly skipUnknown = false,
  ) {}

  private peek(): Token | undefined { return this.tokens[this.pos]; }
  private next(what: string): Token {
    const t = this.tokens[this.pos++];
    if (!t) {
      const last = this.tokens[this.tokens.length - 1];
      throw new TextFormatError(`unexpected end of input, expected ${what}`, last?.line ?? 1, last?.col ?? 1);
    }
    return t;
  }
  private isPunct(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }
  private expectPunct(text: string): Token {
    const t = this.next(`'${text}'`);
    if (t.kind !== 'punct' || t.text !== text) throw new TextFormatError(`expected '${text}', got '${t.text}'`, t.line, t.col);
    return t;
  }

  /** Parses fields until `end` ('}' or '>') or the end of input (top level). */
  message(type: protobuf.Type, end?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (end) throw new TextFormatError(`missing '${end}'`, this.tokens[this.tokens.length - 1]?.line ?? 1, 1);
        return out;
      }
      if (end && t.kind === 'punct' && t.text === end) { this.pos++; return out; }
      this.field(type, out);
      if (this.isPunct(',') || this.isPunct(';')) this.pos++;
    }
  }

  private field(type: protobuf.Type, out: Record<string, unknown>): void {
    const nameTok = this.next('a field name');
    if (nameTok.kind === 'punct' && nameTok.text === '[') {
      // Extension or Any expansion: `[domain/full.Type] { ... }`.
      const url = this.bracketedName();
      if (this.anyExpansion(type, url, out)) return;
      // An extension, or an Any of a type the schema lacks: tfsvc never needs its value.
      this.skipFieldValue();
      return;
    }
    if (nameTok.kind !== 'ident') throw new TextFormatError(`expected a field name, got '${nameTok.text}'`, nameTok.line, nameTok.col);
    const field = type.fields[camel(nameTok.text)] ?? type.fields[nameTok.text] ?? Object.values(type.fields).find((f) => f.name === nameTok.text);
    if (!field) {
      if (this.skipUnknown) {
        this.skipFieldValue();
        return;
      }
      throw new TextFormatError(`unknown field '${nameTok.text}' in ${type.fullName.replace(/^\./, '')}`, nameTok.line, nameTok.col);
    }
    field.resolve();
    const key = field.name;
    const isMessage = field.resolvedType instanceof protobuf.Type || field.map;
    const hasColon = this.isPunct(':');
    if (hasColon) this.pos++;
    else if (!isMessage) {
      const t = this.peek();
      throw new TextFormatError(`expected ':' after '${nameTok.text}'`, t?.line ?? nameTok.line, t?.col ?? nameTok.col);
    }
    const readOne = (): unknown => (field.map ? this.mapEntry(field as unknown as protobuf.MapField) : this.value(field));
    const values: unknown[] = [];
    if (this.isPunct('[') && (field.repeated || field.map)) {
      this.pos++;
      while (!this.isPunct(']')) {
        values.push(readOne());
        if (this.isPunct(',')) this.pos++;
        else if (!this.isPunct(']')) {
          const t = this.next("']'");
          throw new TextFormatError(`expected ',' or ']', got '${t.text}'`, t.line, t.col);
        }
      }
      this.pos++;
    } else {
      values.push(readOne());
    }
    if (field.map) {
      const obj = (out[key] ??= {}) as Record<string, unknown>;
      for (const [k, v] of values as [string, unknown][]) obj[k] = v;
    } else if (field.repeated) {
      ((out[key] ??= []) as unknown[]).push(...values);
    } else {
      if (key in out) throw new TextFormatError(`non-repeated field '${nameTok.text}' is specified multiple times`, nameTok.line, nameTok.col);
      out[key] = values[0];
    }
  }

  private openBrace(): string {
    const t = this.next("'{'");
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) return t.text === '{' ? '}' : '>';
    throw new TextFormatError(`expected '{', got '${t.text}'`, t.line, t.col);
  }

  private mapEntry(field: protobuf.MapField): [string, unknown] {
    const end = this.openBrace();
    let key: unknown;
    let value: unknown;
    while (!this.isPunct(end)) {
      const n = this.next('key or value');
      if (n.kind !== 'ident' || (n.text !== 'key' && n.text !== 'value')) throw new TextFormatError(`expected 'key' or 'value' in a map entry, got '${n.text}'`, n.line, n.col);
      if (n.text === 'key') {
        this.expectPunct(':');
        key = this.scalar(field.keyType, undefined);
      } else {
        field.resolve();
        const isMsg = field.resolvedType instanceof protobuf.Type;
        if (this.isPunct(':')) this.pos++;
        else if (!isMsg) this.expectPunct(':');
        value = isMsg ? this.message(field.resolvedType as protobuf.Type, this.openBrace()) : this.scalar(field.type, field.resolvedType);
      }
      if (this.isPunct(',') || this.isPunct(';')) this.pos++;
    }
    this.pos++;
    return [String(key ?? (field.keyType === 'string' ? '' : 0)), value];
  }

  private value(field: protobuf.Field): unknown {
    if (field.resolvedType instanceof protobuf.Type) return this.message(field.resolvedType, this.openBrace());
    return this.scalar(field.type, field.resolvedType, exactInt64Field(field));
  }

  /** One scalar value of type `typeName`; `exact64`: a 64-bit integer field whose values must not round (see exactInt64Field). */
  private scalar(typeName: string, resolved: protobuf.Type | protobuf.Enum | null | undefined, exact64 = false): unknown {
    const t = this.next('a value');
    const bad = (what: string): never => {
      throw new TextFormatError(`expected ${what}, got '${t.text}'`, t.line, t.col);
    };
    if (resolved instanceof protobuf.Enum) {
      if (t.kind === 'ident') {
        if (!(t.text in resolved.values)) bad(`a value of enum ${resolved.name}`);
        return t.text;
      }
      if (t.kind === 'number' && /^-?\d+$/.test(t.text)) {
        const n = Number(t.text);
        return resolved.valuesById[n] ?? n;
      }
      return bad(`a value of enum ${resolved.name}`);
    }
    if (typeName === 'string' || typeName === 'bytes') {
      if (t.kind !== 'string') bad('a quoted string');
      const parts = [t.value as Buffer];
      while (this.peek()?.kind === 'string') parts.push(this.next('string').value as Buffer);
      const buf = Buffer.concat(parts);
      return typeName === 'string' ? buf.toString('utf8') : buf;
    }
    if (typeName === 'bool') {
      if (t.kind === 'ident' && ['true', 't', 'True'].includes(t.text)) return true;
      if (t.kind === 'ident' && ['false', 'f', 'False'].includes(t.text)) return false;
      if (t.kind === 'number' && (t.text === '1' || t.text === '0')) return t.text === '1';
      return bad('true or false');
    }
    if (INT_TYPES.has(typeName)) {
      if (t.kind !== 'number' || !/^-?(0[xX][0-9a-fA-F]+|\d+)$/.test(t.text)) bad(`an integer (${typeName})`);
      const neg = t.text.startsWith('-');
      const body = neg ? t.text.slice(1) : t.text;
      if (exact64) return this.exactInt64(t, typeName, neg, body);
      let n = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : /^0\d/.test(body) ? parseInt(body, 8) : Number(body);
      if (neg) n = -n;
      if (typeName.startsWith('u') || typeName.startsWith('fixed')) {
        if (n < 0) bad(`a non-negative integer (${typeName})`);
      }
      return n;
    }
    if (typeName === 'float' || typeName === 'double') {
      if (t.kind === 'ident' && /^(inf|infinity|nan)$/i.test(t.text)) return /nan/i.test(t.text) ? NaN : Infinity;
      if (t.kind !== 'number') bad('a number');
      if (/inf/i.test(t.text)) return t.text.startsWith('-') ? -Infinity : Infinity;
      if (/nan/i.test(t.text)) return NaN;
      const text = t.text.replace(/[fF]$/, '');
      const n = /^-?0[xX]/.test(text) ? parseInt(text, 16) : Number(text);
      // A float field holds a float32: "0.1" reads as the value decoding the binary form gives (0.10000000149...).
      return typeName === 'float' ? Math.fround(n) : n;
    }
    return bad(`a value of type ${typeName}`);
  }

  /** A 64-bit integer read exactly (BigInt), range-checked as protobuf does: a number when exact, else a decimal string. */
  private exactInt64(t: Token, typeName: string, neg: boolean, body: string): number | string {
    let v: bigint;
    try {
      v = BigInt(/^0\d/.test(body) ? `0o${body.slice(1)}` : body); // BigInt reads 0x... itself; 0NNN is octal
    } catch {
      throw new TextFormatError(`expected an integer (${typeName}), got '${t.text}'`, t.line, t.col);
    }
    if (neg) v = -v;
    const unsigned = typeName.startsWith('u') || typeName.startsWith('fixed');
    const [min, max] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
    if (v < min || v > max) throw new TextFormatError(`integer out of range for ${typeName}: '${t.text}'`, t.line, t.col);
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v.toString();
  }

  /** The name inside `[...]` after the '[' was read: an extension name or an Any type URL (`host/pkg.Type`). */
  private bracketedName(): string {
    let name = '';
    for (;;) {
      const t = this.next("']'");
      if (t.kind === 'punct' && t.text === ']') break;
      if (t.kind !== 'ident' && !(t.kind === 'punct' && (t.text === '.' || t.text === '/'))) {
        throw new TextFormatError(`expected a type URL or extension name in [...], got '${t.text}'`, t.line, t.col);
      }
      name += t.text;
    }
    if (!name) throw new TextFormatError('empty [] field name', this.tokens[this.pos - 1]!.line, this.tokens[this.pos - 1]!.col);
    return name;
  }

  /**
   * `[type.googleapis.com/pkg.Type] { ... }` inside an Any message whose type the schema has: parses the body as that
   * type and stores it encoded, as the binary form holds it. False (nothing consumed) otherwise.
   */
  private anyExpansion(type: protobuf.Type, url: string, out: Record<string, unknown>): boolean {
    if (type.name !== 'Any' || !type.fields.typeUrl || !type.fields.value || !url.includes('/')) return false;
    const found = type.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    if (!(found instanceof protobuf.Type)) return false;
    const start = this.peek();
    if (this.isPunct(':')) this.pos++;
    const body = this.message(found, this.openBrace());
    if ('typeUrl' in out || 'value' in out) {
      throw new TextFormatError('an Any holds one value: expansion after type_url/value', start?.line ?? 1, start?.col ?? 1);
    }
    out.typeUrl = url;
    out.value = Buffer.from(found.encode(found.fromObject(body)).finish());
    return true;
  }

  /**
   * Skips what follows an unknown field's name, as protobuf's TextFormat parser does with allow_unknown_field:
   * `: scalar`, `: "concatenated" "strings"`, `: [values or messages]`, `: { ... }`, `{ ... }` or `< ... >`. The
   * skipped text must still be well-formed.
   */
  private skipFieldValue(): void {
    if (this.isPunct(':')) {
      this.pos++;
      if (this.isPunct('{') || this.isPunct('<')) this.skipMessage();
      else this.skipScalarOrList();
    } else {
      this.skipMessage();
    }
  }

  private skipMessage(): void {
    const end = this.openBrace();
    for (;;) {
      const t = this.peek();
      if (!t) throw new TextFormatError(`missing '${end}'`, this.tokens[this.tokens.length - 1]?.line ?? 1, 1);
      if (t.kind === 'punct' && (t.text === '}' || t.text === '>')) {
        this.expectPunct(end);
        return;
      }
      const name = this.next('a field name');
      if (name.kind === 'punct' && name.text === '[') this.bracketedName();
      else if (name.kind !== 'ident') throw new TextFormatError(`expected a field name, got '${name.text}'`, name.line, name.col);
      this.skipFieldValue();
      if (this.isPunct(',') || this.isPunct(';')) this.pos++;
    }
  }

  private skipScalarOrList(): void {
    if (this.isPunct('[')) {
      this.pos++;
      if (this.isPunct(']')) {
        this.pos++;
        return;
      }
      for (;;) {
        if (this.isPunct('{') || this.isPunct('<')) this.skipMessage();
        else this.skipScalarOrList();
        if (this.isPunct(']')) {
          this.pos++;
          return;
        }
        this.expectPunct(',');
      }
    }
    const t = this.next('a value');
    if (t.kind === 'string') {
      while (this.peek()?.kind === 'string') this.pos++;
      return;
    }
    // Numbers (the tokenizer keeps a leading '-'), identifiers (enum names, true/false, inf, nan).
    if (t.kind === 'number' || t.kind === 'ident') return;
    throw new TextFormatError(`cannot skip field value, unexpected '${t.text}'`, t.line, t.col);
  }
}

/**
 * Parses protobuf text format `src` as message `type` into a plain object (see the file comment). Throws
 * TextFormatError (`line:column: what`) on malformed text, and on a field the type does not have unless
 * `options.skipUnknownFields`.
 */
export function parseTextProto<T = Record<string, unknown>>(src: string, type: protobuf.Type, options: TextParseOptions = {}): T {
  return new Parser(tokenize(src), options.skipUnknownFields ?? false).message(type) as T;
}

/**
 * Writes `value` (a plain object of message `type`, as `decodePlain` or `parseTextProto` return it) as protobuf text
 * format: fields in field-number order, one per line, nested messages indented by two spaces, map entries sorted by
 * key, strings and bytes C-escaped (non-ASCII bytes as octal, as Python's text_format does by default), float fields
 * in the shortest form that reads back to the same float32, and Any values expanded when their type is in the schema.
 * `parseTextProto(formatTextProto(v, T), T)` deep-equals `v`.
 */
export function formatTextProto(value: Record<string, unknown>, type: protobuf.Type): string {
  const lines: string[] = [];
  writeMessage(value, type, '', lines);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** camelCase field name (protobufjs) back to the .proto spelling: `tensorShape` → `tensor_shape`, `int64Val` → `int64_val`. */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

function writeMessage(value: Record<string, unknown>, type: protobuf.Type, indent: string, lines: string[]): void {
  if (type.name === 'Any' && typeof value.typeUrl === 'string' && value.value instanceof Uint8Array && type.fields.typeUrl) {
    const url = value.typeUrl;
    const inner = type.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    if (url.includes('/') && inner instanceof protobuf.Type) {
      const decoded = inner.toObject(inner.decode(value.value), { longs: Number, enums: String, arrays: false, objects: false, defaults: false });
      lines.push(`${indent}[${url}] {`);
      writeMessage(decoded, inner, indent + '  ', lines);
      lines.push(`${indent}}`);
      return;
    }
  }
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    field.resolve();
    const name = snake(field.name);
    if (field.map) {
      const mf = field as unknown as protobuf.MapField;
      const keys = Object.keys(v as object).sort(mf.keyType === 'string' ? undefined : (a, b) => Number(a) - Number(b));
      for (const k of keys) {
        lines.push(`${indent}${name} {`);
        const keyText = mf.keyType === 'string' ? quote(Buffer.from(k, 'utf8')) : mf.keyType === 'bool' ? String(k === 'true') : k;
        lines.push(`${indent}  key: ${keyText}`);
        writeField('value', (v as Record<string, unknown>)[k], field, indent + '  ', lines);
        lines.push(`${indent}}`);
      }
    } else if (field.repeated) {
      for (const item of v as unknown[]) writeField(name, item, field, indent, lines);
    } else {
      writeField(name, v, field, indent, lines);
    }
  }
}

function writeField(name: string, v: unknown, field: protobuf.Field, indent: string, lines: string[]): void {
  if (field.resolvedType instanceof protobuf.Type) {
    lines.push(`${indent}${name} {`);
    writeMessage(v as Record<string, unknown>, field.resolvedType, indent + '  ', lines);
    lines.push(`${indent}}`);
    return;
  }
  lines.push(`${indent}${name}: ${scalarText(v, field.type)}`);
}

function scalarText(v: unknown, typeName: string): string {
  if (typeName === 'string') return quote(Buffer.from(String(v), 'utf8'));
  if (typeName === 'bytes') return quote(Buffer.from(v as Uint8Array));
  if (typeName === 'bool') return v ? 'true' : 'false';
  if (typeof v === 'number' && (typeName === 'float' || typeName === 'double')) {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (Object.is(v, -0)) return '-0';
    if (typeName === 'float') {
      // The shortest decimal that reads back to the same float32 (what Python prints), not the double's digits.
      for (let p = 1; p <= 9; p++) {
        const short = Number(v.toPrecision(p));
        if (Math.fround(short) === v) return String(short);
      }
    }
    return String(v);
  }
  // Integers (int64 already numbers), enum names or numbers.
  return String(v);
}

/** A double-quoted C-escaped string of `bytes`: printable ASCII as is, \n \r \t \" \' \\, everything else octal. */
function quote(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x22) out += '\\"';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\' + b.toString(8).padStart(3, '0');
  }
  return out + '"';
}
