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
    roots.set(file, root);
  }
  return root;
}

/** A message type by its full name, e.g. `tensorflow.SavedModel`. */
export function protoType(fullName: string, file = 'tensorflow.proto'): protobuf.Type {
  return protoRoot(file).lookupType(fullName);
}

/**
 * Options for turning decoded messages into plain objects. Field names are camelCase (protobufjs' default), which is
 * also what tfjs's model.json uses for GraphDef. int64 become numbers (TF shapes and offsets fit in 2^53), enums are
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
