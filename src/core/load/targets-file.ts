// A targets file: several endpoints sharing one bench schedule by weight (vegeta's targets, with weights), e.g. two
// models behind one server, or predict and classify on one model. JSON lines or one JSON array; each entry:
//   {"url": "http://host:8501/v1/models/a:predict", "weight": 3}
//   {"url": "http://host:8501", "model": "b", "version": "2", "signature": "s", "data": "b.jsonl", "weight": 1}
// `url` is what `tfsvc bench URL` takes; the other fields are its flags (relative `data` paths are resolved against
// the targets file's folder). Weight defaults to 1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface TargetEntry {
  url: string;
  weight: number;
  model?: string;
  version?: string;
  label?: string;
  signature?: string;
  data?: string;
}

const FIELDS = new Set(['url', 'weight', 'model', 'version', 'label', 'signature', 'data']);

/** Reads and checks a targets file; UsageError naming the file and entry when an entry is wrong. */
export function readTargetsFile(file: string): TargetEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--targets ${file}: ${(err as Error).message}`);
  }
  let raw: unknown[];
  const trimmed = text.trim();
  try {
    raw = trimmed.startsWith('[')
      ? (JSON.parse(trimmed) as unknown[])
      : trimmed.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => JSON.parse(l) as unknown);
  } catch (err) {
    throw new UsageError(`--targets ${file}: not JSON lines or a JSON array (${(err as Error).message})`);
  }
  if (raw.length === 0) throw new UsageError(`--targets ${file}: no targets`);
  return raw.map((e, i) => {
    const where = `--targets ${file} entry ${i + 1}`;
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new UsageError(`${where}: expected an object with "url"`);
    const o = e as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw new UsageError(`${where}: unknown field "${k}" (known: ${[...FIELDS].join(', ')})`);
    if (typeof o.url !== 'string' || !o.url) throw new UsageError(`${where}: "url" must be a string`);
    const weight = o.weight === undefined ? 1 : Number(o.weight);
    if (!Number.isInteger(weight) || weight <= 0) throw new UsageError(`${where}: "weight" must be a positive integer, got ${JSON.stringify(o.weight)}`);
    const str = (k: string): string | undefined => {
      if (o[k] === undefined) return undefined;
      if (typeof o[k] !== 'string' && typeof o[k] !== 'number') throw new UsageError(`${where}: "${k}" must be a string`);
      return String(o[k]);
    };
    const data = str('data');
    return {
      url: o.url,
      weight,
      model: str('model'),
      version: str('version'),
      label: str('label'),
      signature: str('signature'),
      data: data === undefined ? undefined : path.resolve(path.dirname(file), data),
    };
  });
}
