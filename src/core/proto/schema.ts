// Loads TensorFlow's protobuf schema (proto/*.proto, shipped with the package) once per process and hands out
// message types. Other layers decode with these types and work on plain objects from `toPlain`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

/** Directory holding the .proto files: `<package>/proto`, found from this compiled file in dist/src/core/proto. */
export function protoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'proto');
    if (existsSync(path.join(candidate, 'tensorflow.proto'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('tfsvc: cannot find proto/tensorflow.proto next to the package');
}

const roots = new Map<string, protobuf.Root>();

/** A protobufjs Root for one of the files in proto/ (cached). */
export function protoRoot(file = 'tensorflow.proto'): protobuf.Root {
  let root = roots.get(file);
  if (!root) {
    root = new protobuf.Root();
    const dir = protoDir();
    root.resolvePath = (_origin, target) => path.join(dir, path.basename(target));
    root.loadSync(file);
    root.resolveAll();
    const tensorProto = root.lookup('tensorflow.TensorProto');
    if (tensorProto instanceof protobuf.Type) exactTensorInt64Values(tensorProto);
    roots.set(file, root);
  }
  return root;
}

/** A message type by its full name, e.g. `tensorflow.SavedModel`. */
export function protoType(fullName: string, file = 'tensorflow.proto'): protobuf.Type {
  return protoRoot(file).lookupType(fullName);
}

/** TensorProto's 64-bit value fields (`int64_val`, `uint64_val`), in protobufjs' camelCase. */
const TENSOR_INT64_FIELDS = ['int64Val', 'uint64Val'] as const;

/**
 * PLAIN turns every int64 into a number, which is exact below 2^53: right for shapes, offsets and sizes, but a
 * TensorProto's int64_val/uint64_val hold tensor values, any 64-bit integer (hashes, ids, tf.int64.max sentinels).
 * For those two fields only, a value that a number cannot hold exactly is given as its decimal string instead (the
 * form protobufjs' `longs: String` uses, accepted back by encodePlain); values that fit stay numbers, so the plain
 * form is unchanged for them. tensorProtoToHost (src/core/savedmodel/tensor.ts) reads both forms as BigInt.
 * Installed on the TensorProto type itself, so it applies wherever a TensorProto is nested (AttrValue, NodeDef, ...).
 */
function exactTensorInt64Values(type: protobuf.Type): void {
  type.setup(); // generates toObject as an own property, which is wrapped here
  const generated = type.toObject;
  type.toObject = function toObject(this: protobuf.Type, message: protobuf.Message, options?: protobuf.IConversionOptions) {
    // eslint-disable-next-line prefer-rest-params -- protobufjs passes a recursion depth as a third argument
    const obj = generated.apply(this, arguments as unknown as [protobuf.Message, protobuf.IConversionOptions?]);
    if (options?.longs !== Number) return obj;
    const m = message as unknown as Record<string, unknown[] | undefined>;
    for (const field of TENSOR_INT64_FIELDS) {
      const raw = m[field];
      if (raw?.length && Array.isArray(obj[field])) obj[field] = raw.map(exactInteger);
    }
    return obj;
  };
}

/** A decoded 64-bit integer (a long.js Long, or a number when protobufjs decoded without long.js) as number or string. */
function exactInteger(v: unknown): number | string {
  if (typeof v === 'number') return v;
  const s = String(v); // Long#toString gives the exact decimal, signed or unsigned as the field is
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

/**
 * Options for turning decoded messages into plain objects. Field names are camelCase (protobufjs' default), which is
 * also what tfjs's model.json uses for GraphDef. int64 become numbers (TF shapes and offsets fit in 2^53; TensorProto's
 * int64_val/uint64_val values beyond that are decimal strings, see exactTensorInt64Values), enums are
 * their names (`DT_FLOAT`), bytes stay Buffers (zero-copy views into the file), defaults are not filled in.
 */
export const PLAIN: protobuf.IConversionOptions = { longs: Number, enums: String, arrays: false, objects: false, defaults: false };

/** Decode `bytes` as message `fullName` into a plain object (see PLAIN). Throws protobufjs' error on bad input. */
export function decodePlain<T = Record<string, unknown>>(fullName: string, bytes: Uint8Array, file?: string): T {
  const type = protoType(fullName, file);
  return type.toObject(type.decode(bytes), PLAIN) as T;
}

/** Encode a plain object (camelCase fields, enum names or numbers) as message `fullName`. */
export function encodePlain(fullName: string, value: Record<string, unknown>, file?: string): Uint8Array {
  const type = protoType(fullName, file);
  return type.encode(type.fromObject(value)).finish();
}
