// saved_model.pbtxt: TF writes SavedModels as text too (as_text=True), full of fields tfsvc's schema leaves out. The
// text parser skips those for SavedModels (and only for them: TF Serving config files stay strict), and a pbtxt copy of
// a real model must inspect and run exactly like its saved_model.pb.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { decodePlain, encodePlain, protoType } from '../../src/core/proto/schema.js';
import { formatTextProto, parseTextProto, TextFormatError } from '../../src/core/proto/text-format.js';
import { readSavedModel } from '../../src/core/savedmodel/reader.js';
import { tensorProtoToHost } from '../../src/core/savedmodel/tensor.js';
import type { TensorProto } from '../../src/core/savedmodel/types.js';
import { inspectModel } from '../../src/core/inspect/report.js';
import { loadModel } from '../../src/core/engine/model.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { parseModelConfigList } from '../../src/core/serving/config.js';
import { UsageError } from '../../src/core/errors.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { tempDir } from './model-copy.js';

const SKIP = { skipUnknownFields: true };

// Every shape an unknown field's value can take in text format, each between two known fields.
const UNKNOWN_FIELDS = `
  future_int: -12 future_float: 1.5e-3 future_inf: -inf future_enum: SOME_ENUM_VALUE future_bool: true
  future_str: "a" 'b' "\\n\\001"
  future_list: [1, -2.5, nan, "s", ENUM, { a: 1 }, < b: "c" >]
  future_empty_list: []
  experimental_debug_info { original_node_names: "a" original_node_names: "b" original_func_names: ["f"] }
  future_angle < deeper: { deepest: [ { x: 1 }, < y: 2 > ] } >
  future_colon_msg: { [type.googleapis.com/tensorflow.NotInTheSchema] { y: "z" nested { w: 2 } } }
  [some.extension]: 7
  [type.googleapis.com/tensorflow.AlsoUnknown] { v: 1 };
`;

describe('skipping unknown fields', () => {
  test('unknown fields of every value shape are skipped, and the known ones around them still parse', () => {
    const type = protoType('tensorflow.NodeDef');
    const known = 'name: "n" op: "Const" input: ["a"] attr { key: "dtype" value { type: DT_FLOAT } }';
    const withUnknown = `name: "n" ${UNKNOWN_FIELDS} op: "Const", input: ["a"] ${UNKNOWN_FIELDS} attr { key: "dtype" value { type: DT_FLOAT ${UNKNOWN_FIELDS} } }`;
    assert.deepEqual(parseTextProto(withUnknown, type, SKIP), parseTextProto(known, type));
  });

  test('strict parsing (the default) still names the first unknown field with its line and column', () => {
    assert.throws(
      () => parseTextProto('name: "n"\n  future_int: 1', protoType('tensorflow.NodeDef')),
      (e: unknown) => e instanceof TextFormatError && e.line === 2 && e.column === 3 && /unknown field 'future_int' in tensorflow\.NodeDef/.test(e.message),
    );
  });

  test('TF Serving config files stay strict: an unknown field is an error naming it', () => {
    assert.throws(
      () => parseModelConfigList('model_config_list { config { name: "m" base_path: "/m" future_field: 1 } }', 'models.config'),
      (e: unknown) => e instanceof UsageError && /models\.config:1:56: unknown field 'future_field' in tensorflow\.serving\.ModelConfig/.test(e.message),
    );
  });

  test('a skipped value must still be well-formed', () => {
    const type = protoType('tensorflow.NodeDef');
    for (const [bad, why] of [
      ['future: }', /cannot skip field value, unexpected '}'/],
      ['future { a: 1', /missing '}'/],
      ['future: [1, 2', /unexpected end of input/],
      ['future: [1 2]', /expected ','/],
      ['future { a: 1 >', /expected '}', got '>'/],
      ['future { 3: 1 }', /expected a field name/],
    ] as const) {
      assert.throws(() => parseTextProto(bad, type, SKIP), (e: unknown) => e instanceof TextFormatError && why.test(e.message), bad);
    }
  });
});

describe('Any expansions', () => {
  test('an Any of a type in the schema is parsed into type_url and encoded value, as the binary form holds it', () => {
    const text = `any_list { value { [type.googleapis.com/tensorflow.AssetFileDef] { tensor_info { name: "Const:0" } filename: "foo.txt" } } }`;
    const parsed = parseTextProto<{ anyList: { value: { typeUrl: string; value: Buffer }[] } }>(text, protoType('tensorflow.CollectionDef'));
    const any = parsed.anyList.value[0]!;
    assert.equal(any.typeUrl, 'type.googleapis.com/tensorflow.AssetFileDef');
    assert.deepEqual(decodePlain('tensorflow.AssetFileDef', any.value), { tensorInfo: { name: 'Const:0' }, filename: 'foo.txt' });
    // Written back as the same expansion.
    assert.match(formatTextProto(parsed, protoType('tensorflow.CollectionDef')), /\[type\.googleapis\.com\/tensorflow\.AssetFileDef\] \{\n +tensor_info \{/);
  });

  test('an Any of a type the schema lacks is skipped; an expansion after type_url is an error', () => {
    const type = protoType('tensorflow.CollectionDef');
    const parsed = parseTextProto(`any_list { value { [type.googleapis.com/tensorflow.NotInTheSchema] { a: 1 b { c: "d" } } } }`, type);
    assert.deepEqual(parsed, { anyList: { value: [{}] } });
    assert.throws(
      () => parseTextProto(`any_list { value { type_url: "x/y" [type.googleapis.com/tensorflow.AssetFileDef] { filename: "f" } } }`, type),
      /an Any holds one value/,
    );
  });
});

describe('formatTextProto', () => {
  test('bytes, strings, floats, enums and maps read back unchanged', () => {
    const type = protoType('tensorflow.NodeDef');
    const node = {
      name: 'ünïcode "quoted" \\ \'single\' \n\t\r',
      op: 'Const',
      input: ['a', '^b'],
      attr: {
        zz: { s: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
        aa: { f: Math.fround(0.1) },
        value: {
          tensor: {
            dtype: 'DT_FLOAT',
            tensorShape: { dim: [{ size: 5 }, { size: -1 }] },
            floatVal: [Math.fround(1 / 3), -0, Infinity, -Infinity, NaN, 1e-38, 3.4e38].map((x) => Math.fround(x)),
            doubleVal: [0.1, 1 / 3, -1e300],
            int64Val: [Number.MAX_SAFE_INTEGER, -5],
          },
        },
        b: { b: false },
        list: { list: { type: ['DT_INT32', 'DT_STRING'], i: [0, 1] } },
      },
    };
    const text = formatTextProto(node, type);
    assert.deepEqual(parseTextProto(text, type), node);
    // Map entries sorted by key; float32 printed in its shortest form; octal escapes for non-printable bytes.
    assert.deepEqual([...text.matchAll(/^  key: "(\w+)"/gm)].map((m) => m[1]), ['aa', 'b', 'list', 'value', 'zz']);
    assert.match(text, /^ +f: 0\.1$/m);
    assert.match(text, /s: "\\000\\001\\002/);
    // And what is read back encodes to the same message (map entries may be encoded in another order).
    const viaBinary = (v: Record<string, unknown>) => decodePlain('tensorflow.NodeDef', encodePlain('tensorflow.NodeDef', v));
    assert.deepEqual(viaBinary(parseTextProto(text, type)), viaBinary(node));
  });
});

describe('TensorProto int64_val / uint64_val in text', () => {
  // A Const node as TF's as_text=True writes one: tensor values beyond 2^53 must not round through a float64 number.
  const node = (field: string, dtype: string, values: string[]) =>
    `name: "c" op: "Const" attr { key: "value" value { tensor { dtype: ${dtype} tensor_shape { dim { size: ${values.length} } } ` +
    `${values.map((v) => `${field}: ${v}`).join(' ')} } } }`;
  const tensorOf = (text: string) =>
    (parseTextProto(text, protoType('tensorflow.NodeDef'), SKIP) as { attr: { value: { tensor: TensorProto } } }).attr.value.tensor;

  test('int64_val beyond 2^53 stays exact, in decimal, hex and octal, as decodePlain gives it', () => {
    const t = tensorOf(node('int64_val', 'DT_INT64', ['4611686018427387905', '-9223372036854775808', '7', '0x7fffffffffffffff', '-0777', '9007199254740993']));
    assert.deepEqual(t.int64Val, ['4611686018427387905', '-9223372036854775808', 7, '9223372036854775807', -511, '9007199254740993']);
    assert.deepEqual([...(tensorProtoToHost(t).data as BigInt64Array)], [2n ** 62n + 1n, -(2n ** 63n), 7n, 2n ** 63n - 1n, -511n, 2n ** 53n + 1n]);
    // The same values through the binary form decode identically.
    assert.deepEqual(decodePlain('tensorflow.TensorProto', encodePlain('tensorflow.TensorProto', t as Record<string, unknown>)), t);
    // And formatTextProto writes them back exactly.
    const text = formatTextProto({ name: 'c', op: 'Const', attr: { value: { tensor: t } } }, protoType('tensorflow.NodeDef'));
    assert.deepEqual(tensorOf(text), t);
  });

  test('uint64_val up to 2^64 - 1 stays exact; other int64 fields (shape sizes) stay numbers', () => {
    const t = tensorOf(node('uint64_val', 'DT_UINT64', ['18446744073709551615', '9223372036854775811', '42']));
    assert.deepEqual(t.uint64Val, ['18446744073709551615', '9223372036854775811', 42]);
    assert.deepEqual([...(tensorProtoToHost(t).data as BigUint64Array)], [2n ** 64n - 1n, 2n ** 63n + 3n, 42n]);
    assert.equal(t.tensorShape!.dim![0]!.size, 3);
  });

  test('a 64-bit tensor value out of range is an error naming it, not a value wrapped around', () => {
    for (const [field, dtype, v] of [
      ['int64_val', 'DT_INT64', '9223372036854775808'],
      ['int64_val', 'DT_INT64', '-9223372036854775809'],
      ['uint64_val', 'DT_UINT64', '18446744073709551616'],
      ['uint64_val', 'DT_UINT64', '-1'],
    ]) {
      assert.throws(
        () => tensorOf(node(field!, dtype!, [v!])),
        (e: unknown) => e instanceof TextFormatError && e.message.includes(`integer out of range for ${field === 'int64_val' ? 'int64' : 'uint64'}: '${v}'`),
        v,
      );
    }
  });
});

const f32 = (...v: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape: [v.length], data: Float32Array.from(v) });

/**
 * A copy of the SavedModel in `src` whose saved_model.pb is replaced by saved_model.pbtxt (written from the decoded
 * .pb, as TF's as_text=True writes it) with `edit` applied to the text; variables and assets copied.
 */
function pbtxtCopy(src: string, t: TestContext, edit: (text: string) => string): string {
  const dir = path.join(tempDir(t), path.basename(src));
  cpSync(src, dir, { recursive: true, filter: (p) => path.basename(p) !== 'saved_model.pb' && path.basename(p) !== 'fingerprint.pb' });
  const sm = decodePlain('tensorflow.SavedModel', readFileSync(path.join(src, 'saved_model.pb')));
  writeFileSync(path.join(dir, 'saved_model.pbtxt'), edit(formatTextProto(sm, protoType('tensorflow.SavedModel'))));
  return dir;
}

/** Adds fields TF writes but proto/tensorflow.proto leaves out, at several depths of the SavedModel. */
function addUnknownFields(text: string): string {
  let nodes = 0;
  const out = text
    // Every graph node gets the debug info TF attaches to nodes of inlined functions.
    .replace(/^( +)node \{\n/gm, (m, indent: string) => {
      nodes++;
      return `${m}${indent}  experimental_debug_info {\n${indent}    original_node_names: "orig/${nodes}"\n${indent}  }\n`;
    })
    .replace(/^( +)meta_info_def \{\n/m, (m, indent: string) => `${m}${UNKNOWN_FIELDS.replace(/^/gm, indent + '  ')}\n`)
    // TF2 function specs: fullargspec and input_signature are StructuredValues, opaque in the schema.
    .replace(
      /^( +)fullargspec \{\n +\}/gm,
      (_m, i: string) =>
        `${i}fullargspec {\n${i}  named_tuple_value {\n${i}    name: "FullArgSpec"\n${i}    values {\n${i}      key: "args"\n` +
        `${i}      value { list_value { values { string_value: "x" } } }\n${i}    }\n${i}    values { key: "varargs" value { none_value {} } }\n` +
        `${i}  }\n${i}}\n${i}jit_compile: DEFAULT`,
    );
  assert.ok(nodes > 0 && out.includes('future_int'), 'the edit found the places it adds fields to');
  return `# written by tfsvc's pbtxt test from a TF-written saved_model.pb\n${out}`;
}

describe('saved_model.pbtxt of a real model reads, inspects and runs like its saved_model.pb', needsShared, () => {
  for (const [name, rel, sig, input, expected] of [
    ['half_plus_two TF1', 'tfserving/saved_model_half_plus_two_cpu/00000123', 'serving_default', f32(1, 2, 5), [2.5, 3, 4.5]],
    ['half_plus_two TF2', 'tfserving/saved_model_half_plus_two_tf2_cpu/00000123', 'serving_default', f32(1), [2.5]],
  ] as const) {
    test(name, async (t) => {
      const src = sharedModel(rel, t);
      const dir = pbtxtCopy(src, t, addUnknownFields);
      if (name.includes('TF2')) assert.match(readFileSync(path.join(dir, 'saved_model.pbtxt'), 'utf8'), /named_tuple_value/);

      const [fromPb, fromText] = [await readSavedModel(src), await readSavedModel(dir)];
      assert.equal(fromText.file, path.join(dir, 'saved_model.pbtxt'));
      assert.deepEqual(fromText.savedModel, fromPb.savedModel);

      const [a, b] = [await inspectModel(src), await inspectModel(dir)];
      assert.deepEqual(b.signatures, a.signatures);
      assert.deepEqual(b.producer, a.producer);
      assert.deepEqual(b.checkpoint?.variables, a.checkpoint?.variables);

      const m = await loadModel(dir);
      t.after(() => m.dispose());
      const x = name.includes('TF1') ? { ...input, shape: [input.shape[0]!, 1] } : input;
      const y = (await m.run(sig, { x })).y!;
      assert.deepEqual(Array.from(y.data as Float32Array), expected);
      const ref = await loadModel(src);
      t.after(() => ref.dispose());
      assert.deepEqual(Object.keys(m.signatures).sort(), Object.keys(ref.signatures).sort());
      assert.deepEqual(m.unavailable, ref.unavailable);
      for (const key of Object.keys(ref.signatures)) assert.deepEqual(m.signatures[key], ref.signatures[key], key);
    });
  }
});
