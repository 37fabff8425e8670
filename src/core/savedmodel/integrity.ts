// Load-time integrity of a SavedModel's files, as TensorFlow checks them when it restores a model: saved_model.pb (or
// .pbtxt) parses and holds a meta graph, the checkpoint index is readable, every shard it names exists and is long
// enough, and every checkpoint entry's CRC32C matches its bytes. The engine reads only the variables its signatures
// use, and reads them after deciding which signatures it can build, so without this a corrupt variable could quietly
// turn into "this signature is not available" instead of a refused version.
import { openCheckpoint } from './checkpoint.js';
import { readSavedModel } from './reader.js';

export interface IntegrityReport {
  /** Checkpoint entries whose CRC32C was verified. */
  entries: number;
  /** Bytes of checkpoint data read and verified. */
  bytes: number;
}

/**
 * Reads and checks every file of the SavedModel in `dir` (see the file comment). Throws ModelError (errors.ts) naming the file and,
 * for checkpoint data, the variable ("<shard>: CRC32C mismatch for variable "dense/kernel" (the file is corrupt)").
 * Partitioned variables (slices) hold no data of their own and are skipped.
 */
export async function verifySavedModel(dir: string): Promise<IntegrityReport> {
  const files = await readSavedModel(dir);
  if (!files.variablesPrefix) return { entries: 0, bytes: 0 };
  const ckpt = await openCheckpoint(files.variablesPrefix);
  let entries = 0;
  let bytes = 0;
  for (const key of ckpt.keys()) {
    const e = ckpt.entry(key);
    if (e.slices?.length) continue;
    if (!ckpt.verified(key)) ckpt.read(key);
    entries++;
    bytes += e.size ?? 0;
  }
  return { entries, bytes };
}

