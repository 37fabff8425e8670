// Floating-point numbers in responses, printed exactly like TF Serving's WriteDecimal (util/json_tensor.cc):
//  1. absl::StrCat(v): printf "%g" with 6 significant digits ("2.5", "9e+06", "3e-05", "0.0003");
//  2. if that text does not parse back to the same float (double for DT_DOUBLE), "%.9g" ("%.17g" for doubles);
//  3. ".0" appended when the text has neither '.' nor 'e' ("3" -> "3.0", "999999" -> "999999.0");
//  NaN, Infinity and -Infinity as bare literals.
// This is not shortest round-trip formatting: float32 pi prints "3.14159274" (9 digits), not "3.1415927".

/** A float32 value (any JS number holding a float32) as TF Serving prints it. */
export function formatFloat32(v: number): string {
  if (!sixDigitsMayRoundTrip32(v)) {
    // Most float32 results (probabilities, activations) need 9 digits: skip formatting 6 of them just to find out.
    const s = formatG(v, 9);
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  }
  return formatDecimal(v, 9, (s) => Math.fround(Number(s)) === v);
}

// Exact powers of ten (10^0 .. 10^22 are exactly representable as doubles).
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const FLT_MIN = 1.1754943508222875e-38;

/**
 * False only when `v` (a finite float32) certainly does not survive "%.6g" (its nearest 6-significant-digit decimal
 * lies outside v's float32 rounding interval); true when it may, and then the exact test decides. Computed in doubles:
 * s = |v| * 10^k in [1e5, 1e6) carries an absolute error below 2^-33, far inside the 1e-9 margin, and the half-gap
 * taken is the larger of the two (they differ at powers of two), so a doubtful case always gets the exact test.
 */
function sixDigitsMayRoundTrip32(v: number): boolean {
  const a = v < 0 ? -v : v;
  if (!(a >= FLT_MIN) || a === Infinity) return true; // zero, subnormal, NaN, infinite: the exact path
  const k = 5 - Math.floor(Math.log10(a));
  if (k < -22 || k > 22) return true;
  const scale = k >= 0 ? POW10[k]! : 1 / POW10[-k]!;
  const s = k >= 0 ? a * POW10[k]! : a / POW10[-k]!;
  if (s < 1e5 || s >= 1e6) return true; // log10 was off by one near a power of ten
  f64[0] = a;
  const e2 = ((u32[LITTLE_ENDIAN ? 1 : 0]! >>> 20) & 0x7ff) - 1023;
  const halfGap = 2 ** (e2 - 24) * scale; // half of float32's spacing above |v|, scaled like s
  return Math.abs(s - Math.round(s)) <= halfGap + 1e-9;
}

/** A float64 value as TF Serving prints it. */
export function formatFloat64(v: number): string {
  return formatDecimal(v, 17, (s) => Number(s) === v);
}

function formatDecimal(v: number, maxDigits: number, roundTrips: (s: string) => boolean): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  let s = formatG(v, 6);
  if (!roundTrips(s)) s = formatG(v, maxDigits);
  if (!s.includes('.') && !s.includes('e')) s += '.0';
  return s;
}

/**
 * C's printf("%.{precision}g", v) for a finite double, with glibc's exact rounding (round half to even on the exact
 * binary value). JS's toExponential rounds exact ties away from zero, so ties are detected and corrected.
 */
export function formatG(v: number, precision: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const neg = v < 0;
  const a = neg ? -v : v;
  const tie = tieIsPossible(a, precision);
  if (!tie && precision <= 21) {
    // No tie, so JS's rounding is C's. toPrecision writes fixed notation for decimal exponents -6..precision-1 and
    // %g for -4..precision-1, with the same digits: where both are fixed, %g's text is toPrecision's without trailing
    // zeros (exponents -6 and -5 show as "0.0000..." and take the general path below).
    const t = a.toPrecision(precision);
    if (!t.includes('e') && !t.startsWith('0.0000')) {
      let end = t.length;
      if (t.includes('.')) {
        while (t.charCodeAt(end - 1) === 48) end--;
        if (t.charCodeAt(end - 1) === 46) end--;
      }
      const out = end === t.length ? t : t.slice(0, end);
      return neg ? `-${out}` : out;
    }
  }
  let t = a.toExponential(precision - 1);
  if (tie) {
    // A tie: the exact value has precision+1 significant digits, the last a 5.
    const longer = a.toExponential(precision);
    const e = longer.indexOf('e');
    if (longer[e - 1] === '5' && isExactDecimal(a, longer)) {
      const digits = longer.slice(0, e).replace('.', '').slice(0, precision);
      if ((digits.charCodeAt(digits.length - 1) - 48) % 2 === 0) {
        // Round half to even: keep the truncated digits (toExponential rounded them up).
        t = (digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits) + longer.slice(e);
      }
    }
  }
  const e = t.indexOf('e');
  const x = Number(t.slice(e + 1));
  // Mantissa digits without the point and without trailing zeros (%g drops them).
  let digits = e > 1 ? t[0] + t.slice(2, e) : t[0];
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  let out: string;
  if (x < -4 || x >= precision) {
    const ax = x < 0 ? -x : x;
    out = `${digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  } else if (x >= 0) {
    out = digits.length > x + 1 ? `${digits.slice(0, x + 1)}.${digits.slice(x + 1)}` : digits + '0'.repeat(x + 1 - digits.length);
  } else {
    out = `0.${'0'.repeat(-x - 1)}${digits}`;
  }
  return neg ? `-${out}` : out;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Count of trailing zero bits of a non-zero uint32. */
const ctz = (x: number) => 31 - Math.clz32(x & -x);

/**
 * Whether the exact decimal expansion of `a` (> 0, finite) can have exactly precision+1 significant digits, the only
 * case in which %g rounding meets a tie. a = M * 2^E with M odd has -E digits after the point when E < 0, so its
 * significant digit count is -E + floor(log10 a) + 1; large integers are left to the exact check.
 */
function tieIsPossible(a: number, precision: number): boolean {
  f64[0] = a;
  const lo = u32[LITTLE_ENDIAN ? 0 : 1];
  const hi = u32[LITTLE_ENDIAN ? 1 : 0];
  const biased = (hi >>> 20) & 0x7ff;
  let E = (biased === 0 ? 1 : biased) - 1075;
  const mhi = (hi & 0xfffff) | (biased === 0 ? 0 : 0x100000);
  E += lo !== 0 ? ctz(lo) : 32 + ctz(mhi);
  if (E >= 0) return a >= 10 ** precision;
  // A tie needs floor(log10 a) === precision + E. The binary exponent e2 bounds log10 a to
  // [e2 * log10(2), (e2 + 1) * log10(2)): outside that (with a margin of one) there is no tie, and no logarithm to take.
  const target = precision + E;
  const e2 = (biased === 0 ? 1 : biased) - 1023;
  if (target < Math.floor(e2 * 0.30102999566398120) - 1 || target > Math.ceil((e2 + 1) * 0.30102999566398120) + 1) return false;
  let e10 = Math.floor(Math.log10(a));
  if (10 ** e10 > a) e10--;
  else if (10 ** (e10 + 1) <= a) e10++;
  return -E + e10 + 1 === precision + 1;
}

/** Whether the double `a` (> 0) equals the decimal `text` ("d.ddde±x") exactly. */
function isExactDecimal(a: number, text: string): boolean {
  const [m, e] = text.split('e');
  const digits = m.replace('.', '');
  const k = Number(e) - (digits.length - 1); // text = D * 10^k
  const D = BigInt(digits);
  // a = M * 2^E exactly.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let M = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let E: number;
  if (biased === 0) {
    E = -1074;
  } else {
    M |= 1n << 52n;
    E = biased - 1075;
  }
  // Compare M * 2^E with D * 10^k after clearing negative exponents.
  let left = M;
  let right = D;
  if (E >= 0) left <<= BigInt(E);
  else right <<= BigInt(-E);
  if (k >= 0) right *= 10n ** BigInt(k);
  else left *= 10n ** BigInt(-k);
  return left === right;
}
