// NumPy's str() of an array (numpy.array2string with its defaults: precision 8, floatmode 'maxprec', threshold 1000,
// edgeitems 3, linewidth 75), which `saved_model_cli run` prints under "Result for output key K:". Covers what a
// model returns: floats (fixed, or scientific where NumPy switches), ints, bools and byte strings, any rank.
import type { HostTensor } from '../engine/types.js';

const PRECISION = 8;
const THRESHOLD = 1000;
const EDGE = 3;
const LINEWIDTH = 75;

type Cell = number | bigint | boolean | Uint8Array;

const special = (x: number) => (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

/** The shortest `format(x, digits)` (digits 0..max) that reads back as x (as float32 when `single`). */
function shortest(x: number, single: boolean, format: (v: number, digits: number) => string, max: number): string {
  for (let d = 0; d < max; d++) {
    const s = format(x, d);
    const back = Number(s);
    if (single ? Math.fround(back) === x : back === x) return s;
  }
  return format(x, max);
}

/** Fixed notation: the shortest round-tripping digits, at most PRECISION after the point (NumPy's 'maxprec'). */
function shortestFixed(x: number, single: boolean): string {
  return shortest(x, single, (v, d) => v.toFixed(d), PRECISION);
}

/** Every shown value formatted and padded to one width, as NumPy lines up its columns. */
function formatCells(values: Cell[], dtype: string): string[] {
  if (dtype === 'DT_BOOL') return values.map((v) => (v ? 'True' : 'False').padStart(values.some((x) => !x) ? 5 : 4));
  if (dtype === 'DT_STRING') {
    return values.map((v) => `b'${Buffer.from(v as Uint8Array).toString('latin1').replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`);
  }
  if (!/FLOAT|DOUBLE|HALF|BFLOAT/.test(dtype)) {
    const s = values.map(String);
    const width = Math.max(...s.map((x) => x.length));
    return s.map((x) => x.padStart(width));
  }
  const nums = values.map(Number);
  const single = dtype !== 'DT_DOUBLE'; // float32 (and half, widened): shortest digits that round-trip as float32
  const finite = nums.filter(Number.isFinite).map(Math.abs);
  const max = finite.length ? Math.max(...finite) : 0;
  const minNonZero = finite.filter((x) => x > 0).reduce((a, b) => Math.min(a, b), Infinity);
  // NumPy's FloatingFormat rule: scientific when the largest magnitude is >= 1e8, or the smallest non-zero one is
  // < 1e-4, or the largest over the smallest non-zero exceeds 1000.
  const scientific = max >= 1e8 || (minNonZero !== Infinity && (minNonZero < 1e-4 || max / minNonZero > 1e3));
  let cells: string[];
  if (scientific) {
    const parts = nums.map((x) => {
      if (!Number.isFinite(x)) return undefined;
      const [m, e] = shortest(x, single, (v, p) => v.toExponential(p), PRECISION).split('e') as [string, string];
      const [ip, fp = ''] = m.split('.');
      return { ip: ip!, fp: fp.replace(/0+$/, ''), e: Number(e) };
    });
    const frac = Math.max(0, ...parts.map((p) => (p ? p.fp.length : 0)));
    const expWidth = Math.max(2, ...parts.map((p) => (p ? String(Math.abs(p.e)).length : 0)));
    cells = nums.map((x, i) => {
      const p = parts[i];
      return p ? `${p.ip}.${p.fp.padEnd(frac, '0')}e${p.e < 0 ? '-' : '+'}${String(Math.abs(p.e)).padStart(expWidth, '0')}` : special(x);
    });
  } else {
    // At most PRECISION fractional digits, trailing zeros dropped, fractions padded on the right to the longest.
    const parts = nums.map((x) => {
      if (!Number.isFinite(x)) return undefined;
      const [ip, fp = ''] = shortestFixed(x, single).split('.') as [string, string?];
      return { ip: ip === '-0' ? (Object.is(x, -0) ? '-0' : '0') : ip, fp: fp.replace(/0+$/, '') };
    });
    const frac = Math.max(0, ...parts.map((p) => (p ? p.fp.length : 0)));
    const intWidth = Math.max(...parts.map((p, i) => (p ? p.ip.length : special(nums[i]!).length)));
    cells = nums.map((x, i) => {
      const p = parts[i];
      return p ? `${p.ip.padStart(intWidth)}.${p.fp.padEnd(frac)}` : special(x).padStart(intWidth + 1 + frac);
    });
  }
  const width = Math.max(...cells.map((c) => c.length));
  return cells.map((c) => c.padStart(width));
}

/** The array as NumPy's str() prints it. */
export function formatNumpy(t: HostTensor): string {
  const all = (Array.isArray(t.data) ? t.data : Array.from(t.data as ArrayLike<number | bigint>)) as Cell[];
  const shape = t.shape;
  const summarize = all.length > THRESHOLD;
  // Indices shown along an axis (-1 marks NumPy's "..."); formats are chosen from the shown values only.
  const shownIndex = (n: number): number[] =>
    summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
  const strideOf = (depth: number) => shape.slice(depth + 1).reduce((a, b) => a * b, 1);
  const shown: Cell[] = [];
  const collect = (offset: number, depth: number): void => {
    if (depth === shape.length) return void shown.push(all[offset]!);
    for (const i of shownIndex(shape[depth]!)) if (i >= 0) collect(offset + i * strideOf(depth), depth + 1);
  };
  collect(0, 0);
  const cells = formatCells(shown, t.dtype);
  if (shape.length === 0) return cells[0]!.trim();
  let next = 0; // render visits the shown values in collect's order
  const render = (depth: number, offset: number, indent: string): string => {
    const idx = shownIndex(shape[depth]!);
    if (depth === shape.length - 1) {
      const words = idx.map((i) => (i < 0 ? '...' : cells[next++]!));
      const lines: string[] = [];
      let line = '';
      for (const w of words) {
        const joined = line ? `${line} ${w}` : w;
        // The closing brackets of every enclosing level count against the line width, as in NumPy.
        if (line && indent.length + 1 + joined.length + depth + 1 > LINEWIDTH) {
          lines.push(line.trimEnd()); // NumPy strips a wrapped line's padding
          line = w;
        } else line = joined;
      }
      lines.push(line);
      return `[${lines.join(`\n${indent} `)}]`;
    }
    const sep = `${'\n'.repeat(shape.length - depth - 1)}${indent} `;
    return `[${idx.map((i) => (i < 0 ? '...' : render(depth + 1, offset + i * strideOf(depth), `${indent} `))).join(sep)}]`;
  };
  return render(0, 0, '');
}
