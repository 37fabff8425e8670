// NumPy's .npy format (numpy.lib.format, versions 1.0-3.0), read into HostTensors and written from them: what
// `saved_model_cli run --inputs x=file.npy` loads and `--outdir` writes. Layout: magic "\x93NUMPY", version bytes,
// header length (uint16 in 1.0, uint32 in 2.0/3.0), an ASCII Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a multiple of 64 bytes and ended
// by '\n', then the raw elements. Object arrays ('|O', pickles) are refused: tfsvc never unpickles.
import { UsageError } from '../errors.js';
import type { HostTensor } from '../engine/types.js';
import { decodeElements, encodeElements, numElements } from '../savedmodel/dtype.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** NumPy type character + size → TF dtype (little-endian bytes once swapped). */
const DTYPES: Record<string, string> = {
  f2: 'DT_HALF', f4: 'DT_FLOAT', f8: 'DT_DOUBLE',
  i1: 'DT_INT8', i2: 'DT_INT16', i4: 'DT_INT32', i8: 'DT_INT64',
  u1: 'DT_UINT8', u2: 'DT_UINT16', u4: 'DT_UINT32', u8: 'DT_UINT64',
  b1: 'DT_BOOL', c8: 'DT_COMPLEX64', c16: 'DT_COMPLEX128',
};
const DESCR_OF: Record<string, string> = Object.fromEntries(
  Object.entries(DTYPES).map(([k, v]) => [v, `${k[1] === '1' && k[0] !== 'c' ? '|' : '<'}${k}`]),
);

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, where: string): Header {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new UsageError(`${where}: not a .npy header (${JSON.stringify(text.slice(0, 120))}); a structured dtype is not supported`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new UsageError(`${where}: bad shape (${shapeText})`);
  return { descr, fortranOrder: fortran === 'True', shape };
}

/** Reverses each `size`-byte element in place (big-endian → little-endian). */
function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** Row-major copy of a Fortran-ordered (column-major) array of `size`-byte elements. */
function fromFortran(b: Uint8Array, shape: number[], size: number): Uint8Array {
  const n = numElements(shape);
  const out = new Uint8Array(b.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let c = 0; c < n; c++) {
    // c walks row-major order; its Fortran offset has the first index varying fastest.
    let f = 0;
    let mul = 1;
    for (let d = 0; d < rank; d++) {
      f += idx[d]! * mul;
      mul *= shape[d]!;
    }
    out.set(b.subarray(f * size, (f + 1) * size), c * size);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Fixed-width byte or UCS-4 strings → TF's byte strings, trailing NULs dropped as NumPy does. */
function decodeStrings(body: Uint8Array, n: number, width: number, unicode: boolean, bigEndian: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  const item = unicode ? width * 4 : width;
  for (let i = 0; i < n; i++) {
    const raw = body.subarray(i * item, (i + 1) * item);
    if (!unicode) {
      let end = raw.length;
      while (end > 0 && raw[end - 1] === 0) end--;
      out.push(raw.slice(0, end));
      continue;
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let s = '';
    for (let j = 0; j < width; j++) {
      const cp = view.getUint32(j * 4, !bigEndian);
      if (cp === 0) break;
      s += String.fromCodePoint(cp);
    }
    out.push(new TextEncoder().encode(s));
  }
  return out;
}

/** Reads one .npy file's bytes; `where` names it in errors (the file, and the npz entry). */
export function readNpy(bytes: Uint8Array, where: string): HostTensor {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new UsageError(`${where}: not a .npy file (no \\x93NUMPY magic)`);
  const major = b[6]!;
  if (major < 1 || major > 3) throw new UsageError(`${where}: .npy format version ${major}.${b[7]} is not supported`);
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > b.length) throw new UsageError(`${where}: truncated .npy header`);
  const header = parseHeader(b.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1'), where);
  const body = new Uint8Array(b.subarray(start + headerLen));
  const n = numElements(header.shape);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(header.descr);
  if (!m) throw new UsageError(`${where}: dtype '${header.descr}' is not supported (object and structured arrays are not read)`);
  const [, order, kind, sizeText] = m as unknown as [string, string, string, string];
  const size = Number(sizeText);
  const bigEndian = order === '>';
  if (kind === 'S' || kind === 'U') {
    const item = kind === 'U' ? size * 4 : size;
    if (body.length < n * item) throw new UsageError(`${where}: ${n} strings of ${item} bytes need ${n * item} bytes, found ${body.length}`);
    let raw: Uint8Array = body.subarray(0, n * item);
    if (header.fortranOrder) raw = fromFortran(raw, header.shape, item);
    return { dtype: 'DT_STRING', shape: header.shape, data: decodeStrings(raw, n, size, kind === 'U', bigEndian) };
  }
  const dtype = DTYPES[`${kind}${size}`];
  if (!dtype) throw new UsageError(`${where}: dtype '${header.descr}' has no TensorFlow equivalent tfsvc reads`);
  const width = kind === 'c' ? size / 2 : size;
  const total = n * size;
  if (body.length < total) throw new UsageError(`${where}: shape (${header.shape.join(', ')}) of '${header.descr}' needs ${total} bytes of data, found ${body.length}`);
  let raw: Uint8Array = body.slice(0, total);
  if (bigEndian && width > 1) swapBytes(raw, width);
  if (header.fortranOrder) raw = fromFortran(raw, header.shape, size);
  return { dtype, shape: header.shape, data: decodeElements(dtype, raw, n) };
}

/** A .npy file (version 1.0, C order) holding `t`. Strings are written as fixed-width bytes ('|S<n>'). */
export function writeNpy(t: HostTensor): Buffer {
  let descr: string;
  let body: Uint8Array;
  if (t.dtype === 'DT_STRING') {
    const items = t.data as Uint8Array[];
    const width = Math.max(1, ...items.map((s) => s.length));
    descr = `|S${width}`;
    body = new Uint8Array(items.length * width);
    items.forEach((s, i) => body.set(s, i * width));
  } else {
    const d = DESCR_OF[t.dtype];
    if (!d) throw new UsageError(`cannot write a ${t.dtype} tensor as .npy`);
    descr = d;
    body = encodeElements(t.dtype, t.data);
  }
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  dict += `${' '.repeat(pad % 64)}\n`;
  const head = Buffer.alloc(10);
  MAGIC.copy(head);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), body]);
}
