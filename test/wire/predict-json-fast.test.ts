// The :predict fast path (predict-json-fast.ts) must be invisible to clients: whenever it answers, the general path
// (parseJsonBody + decodePredictRequest) gives the very same tensors, and whenever the general path rejects a body,
// the fast path steps aside so the client gets TF Serving's error text.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostTensor, SignatureInfo, TensorSpec } from '../../src/core/engine/types.js';
import { parseJsonBody } from '../../src/core/wire/json-parse.js';
import { decodePredictRequest } from '../../src/core/wire/predict-json.js';
import { decodePredictFast } from '../../src/core/wire/predict-json-fast.js';

function sig(inputs: Record<string, string>, key = 'serving_default'): SignatureInfo {
  const specs: Record<string, TensorSpec> = {};
  for (const [k, dtype] of Object.entries(inputs)) specs[k] = { name: `${k}:0`, dtype, shape: null };
  return { key, methodName: 'tensorflow/serving/predict', inputs: specs, outputs: {} };
}

const FLOAT = { serving_default: sig({ x: 'DT_FLOAT' }), other: sig({ y: 'DT_DOUBLE' }, 'other') };

const bytesOf = (t: HostTensor) => Buffer.from((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, (t.data as Float32Array).byteLength);

type General = { ok: true; name: string; inputs: Record<string, HostTensor>; format: string } | { ok: false };

/** What the general path makes of `text` (the signature resolved as routes.ts does). */
function general(text: string, sigs: Record<string, SignatureInfo>): General {
  try {
    const body = parseJsonBody(text) as Record<string, unknown>;
    const name = (typeof body?.signature_name === 'string' && body.signature_name) || 'serving_default';
    const s = Object.prototype.hasOwnProperty.call(sigs, name) ? sigs[name] : undefined;
    if (!s) return { ok: false };
    const r = decodePredictRequest(body, s);
    return { ok: true, name, inputs: r.inputs, format: r.format };
  } catch {
    return { ok: false };
  }
}

/** Asserts the fast path agrees with the general path on `text`; returns whether the fast path answered. */
function agrees(text: string, sigs: Record<string, SignatureInfo> = FLOAT): boolean {
  const fast = decodePredictFast(Buffer.from(text), sigs, 'serving_default');
  if (!fast) return false;
  const g = general(text, sigs);
  assert.ok(g.ok, `fast path accepted a body the general path rejects: ${text.slice(0, 200)}`);
  assert.equal(fast.signatureName, g.name);
  assert.equal(fast.format, g.format);
  assert.deepEqual(Object.keys(fast.inputs), Object.keys(g.inputs));
  for (const k of Object.keys(g.inputs)) {
    const a: HostTensor = fast.inputs[k]!;
    const b: HostTensor = g.inputs[k]!;
    assert.equal(a.dtype, b.dtype);
    assert.deepEqual(a.shape, b.shape);
    assert.equal(a.data.constructor, b.data.constructor);
    assert.ok(bytesOf(a).equals(bytesOf(b)), `values differ for ${text.slice(0, 200)}`);
  }
  return true;
}

describe('predict fast path', () => {
  test('answers the common bodies, exactly as the general path', () => {
    const accepted = [
      '{"instances": [1.0, 2.0, 5.0]}',
      '{"instances": [[1.5, -2], [3e2, 4.25E-3]]}',
      '{"instances": [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]]]}',
      ' \n\t{ "instances" :[ [ 1 , 2 ] ,[3,4] ] , "signature_name":"serving_default" }\r\n',
      '{"signature_name": "other", "instances": [[1.0], [2.0]]}',
      '{"signature_name": "", "instances": [0]}',
      '{"inputs": [[1.0, 2.0], [3.0, 4.0]]}',
      '{"inputs": 3.5}',
      '{"inputs": {"x": [[1.0, 2.0]]}}',
      '{"instances": [-0.0, -0, 0, 0.0, 1e-7, 123456789012345678901234567890, 0.30000000000000004, 1.7976931348623157e308]}',
      '{"instances": [3.4028235e38, 3.4028236e38, 1e-46, 2.5e-45]}',
    ];
    for (const text of accepted) assert.ok(agrees(text), `fast path declined: ${text}`);
  });

  test('steps aside for everything else, so TF Serving errors and rules still apply', () => {
    const declined: [string, Record<string, SignatureInfo>?][] = [
      ['{"instances": [NaN, 1.0]}'],
      ['{"instances": [Infinity]}'],
      ['{"instances": [-Infinity]}'],
      ['{"instances": [1e400]}'],
      ['{"instances": [1.0]}X'],
      ['{"instances": [1.0], "instances": [2.0]}'],
      ['{"instances": [1.0], "inputs": [2.0]}'],
      ['{"instances": [[1, 2], [3]]}'],
      ['{"instances": [[1, 2], 3]}'],
      ['{"instances": [1, [2]]}'],
      ['{"instances": []}'],
      ['{"instances": [[]]}'],
      ['{"instances": [01]}'],
      ['{"instances": [1.]}'],
      ['{"instances": [.5]}'],
      ['{"instances": [+1]}'],
      ['{"instances": ["1"]}'],
      ['{"instances": [true]}'],
      ['{"instances": [null]}'],
      ['{"instances": [{"x": [1.0]}]}'],
      ['{"instances": [1.0,]}'],
      ['{"instances": [1.0]'],
      ['{"instances": [1.0], "extra": 1}'],
      ['{"signature_name": "nope", "instances": [1.0]}'],
      ['{"signature_name": "constructor", "instances": [1.0]}'],
      ['{"signature_name": "serving\\u005fdefault", "instances": [1.0]}'],
      ['{"signature_name": 1, "instances": [1.0]}'],
      ['{"inputs": {"z": [1.0]}}'],
      ['{"inputs": {"x": [1.0], "y": [2.0]}}'],
      ['{"inputs": {"b64": "AAAA"}}'],
      ['{"instances": [1]}', { serving_default: sig({ x: 'DT_INT32' }) }],
      ['{"instances": [1.0]}', { serving_default: sig({ x: 'DT_FLOAT', y: 'DT_FLOAT' }) }],
      ['{"instances": [1.0]}', { serving_default: sig({}) }],
      ['[1.0]'],
      [''],
      [`{"instances": ${'['.repeat(20000)}1${']'.repeat(20000)}}`],
    ];
    for (const [text, sigs] of declined) {
      assert.equal(decodePredictFast(Buffer.from(text), sigs ?? FLOAT, 'serving_default'), undefined, `fast path answered: ${text.slice(0, 80)}`);
    }
  });

  test('numbers are read exactly as JSON.parse reads them (float64 and float32)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(rand() * 10))).join('');
    const literals: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const int = rand() < 0.3 ? '0' : String(1 + Math.floor(rand() * 9)) + digits(Math.floor(rand() * 12));
      const frac = rand() < 0.7 ? `.${digits(1 + Math.floor(rand() * 18))}` : '';
      const exp = rand() < 0.3 ? `${rand() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(rand() * 3)]}${Math.floor(rand() * 40)}` : '';
      literals.push(`${rand() < 0.3 ? '-' : ''}${int}${frac}${exp}`);
    }
    const text = `{"instances": [${literals.join(', ')}]}`;
    const d = decodePredictFast(Buffer.from(text), { serving_default: sig({ x: 'DT_DOUBLE' }) }, 'serving_default');
    assert.ok(d);
    const got = d.inputs.x!.data as Float64Array;
    literals.forEach((lit, i) => assert.ok(Object.is(got[i], JSON.parse(lit)), `${lit}: ${got[i]} != ${JSON.parse(lit)}`));
    assert.ok(agrees(text));
  });

  test('16 to 19 digit numbers (how clients print float32 data) are read exactly, also next to float32 rounding boundaries', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const literals: string[] = [];
    for (let i = 0; i < 20000; i++) {
      // A random float32 in [1e-7, 1e38), as a client would print it (shortest round-trip: up to 17 digits)...
      f32[0] = (rand() < 0.5 ? -1 : 1) * 10 ** (-7 + rand() * 45) * (1 + rand());
      const a = f32[0]!;
      literals.push(String(a));
      // ...and the hard cases: the exact midpoint between it and the next float32 (a double), printed with 16 to 19
      // significant digits, which lands just below, on, or just above the rounding boundary.
      u32[0] = u32[0]! + 1;
      const mid = (a + f32[0]!) / 2;
      literals.push(mid.toPrecision(16 + Math.floor(rand() * 4)).replace(/e\+?/, rand() < 0.5 ? 'e' : 'E'));
      literals.push(mid.toPrecision(17));
    }
    const text = `{"instances": [${literals.join(', ')}]}`;
    for (const dtype of ['DT_FLOAT', 'DT_DOUBLE']) {
      const d = decodePredictFast(Buffer.from(text), { serving_default: sig({ x: dtype }) }, 'serving_default');
      assert.ok(d, `fast path declined (${dtype})`);
      const got = d.inputs.x!.data;
      const want = dtype === 'DT_FLOAT' ? Float32Array.from(literals, (l) => JSON.parse(l)) : Float64Array.from(literals, (l) => JSON.parse(l));
      literals.forEach((lit, i) => assert.ok(Object.is(got[i], want[i]), `${dtype} ${lit}: ${got[i]} != ${want[i]}`));
    }
  });

  test('random corruptions of a valid body: the fast path never answers differently from the general path', () => {
    const bases = [
      '{"signature_name": "serving_default", "instances": [[0.5, -1.25, 3e1], [4, 5.0, 6E-2]]}',
      '{"instances": [[[[0.5], [1]], [[2], [3]]], [[[4], [5]], [[6], [7.5]]]]}',
    ];
    const alphabet = '[]{},:." -+.eE0123456789abNIX\\';
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    let answered = 0;
    for (let i = 0; i < 6000; i++) {
      let s = bases[i % 2]!;
      for (let k = 0, edits = 1 + rand(3); k < edits; k++) {
        const at = rand(s.length + 1);
        const op = rand(3);
        const c = alphabet[rand(alphabet.length)]!;
        s = op === 0 ? s.slice(0, at) + s.slice(at + 1) : op === 1 ? s.slice(0, at) + c + s.slice(at) : s.slice(0, at) + c + s.slice(at + 1);
      }
      if (agrees(s)) answered++;
    }
    // Some corruptions stay valid (a changed digit, extra whitespace) and must still be answered by the fast path.
    assert.ok(answered > 0);
  });
});
