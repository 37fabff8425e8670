// Protocol Buffers text format (what TF Serving's config files and saved_model.pbtxt are written in), parsed into the
// same plain-object shape as `decodePlain` (src/core/proto/schema.ts): camelCase field names, int64 as numbers, enums
// as names, bytes as Buffers, repeated fields as arrays, map fields as objects. A protobufjs Type guides the parse, so a
// repeated field written once is still an array, a message is parsed as a message and an unknown field is an error
// that names the line and column, instead of a silently ignored typo.
//
// Grammar accepted (protobuf's text_format): `name: value`, `name { ... }`, `name: { ... }`, `name < ... >`,
// `name: [v1, v2]` for repeated fields, optional `,`/`;` separators, `#` comments, adjacent string concatenation,
// C escapes in strings, numbers in decimal/hex/octal/float (`inf`, `nan`, `1.5f`), enums by name or number,
// `true/false/t/f/True/False/1/0` for bools, and `[type.googleapis.com/x.Y] { ... }` Any expansions (kept as text).
import protobuf from 'protobufjs';

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

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase());
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

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
      // Extension or Any expansion: `[domain/full.Type] { ... }`. Skip its value; tfsvc's configs never need them.
      while (!this.isPunct(']')) this.next("']'");
      this.pos++;
      if (this.isPunct(':')) this.pos++;
      this.skipValue();
      return;
    }
    if (nameTok.kind !== 'ident') throw new TextFormatError(`expected a field name, got '${nameTok.text}'`, nameTok.line, nameTok.col);
    const field = type.fields[camel(nameTok.text)] ?? type.fields[nameTok.text] ?? Object.values(type.fields).find((f) => f.name === nameTok.text);
    if (!field) throw new TextFormatError(`unknown field '${nameTok.text}' in ${type.fullName.replace(/^\./, '')}`, nameTok.line, nameTok.col);
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
    return this.scalar(field.type, field.resolvedType);
  }

  private scalar(typeName: string, resolved: protobuf.Type | protobuf.Enum | null | undefined): unknown {
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
      return /^-?0[xX]/.test(text) ? parseInt(text, 16) : Number(text);
    }
    return bad(`a value of type ${typeName}`);
  }

  /** Skips one value of an unknown shape (used for extensions / Any expansions). */
  private skipValue(): void {
    const t = this.next('a value');
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) {
      let depth = 1;
      while (depth > 0) {
        const u = this.next("'}'");
        if (u.kind === 'punct' && (u.text === '{' || u.text === '<')) depth++;
        if (u.kind === 'punct' && (u.text === '}' || u.text === '>')) depth--;
      }
    }
  }
}

/**
 * Parses protobuf text format `src` as message `type` into a plain object (see the file comment). Throws
 * TextFormatError (`line:column: what`) on malformed text or a field the type does not have.
 */
export function parseTextProto<T = Record<string, unknown>>(src: string, type: protobuf.Type): T {
  return new Parser(tokenize(src)).message(type) as T;
}
