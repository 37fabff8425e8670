// `tfsvc bench merge a.json b.json ...`: reads `--json` results and adds them (exact histogram addition).
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { Metrics } from './metrics.js';

/** Reads one `--json` result file; UsageError naming the file when it is not one. */
export function readResultFile(file: string): Metrics {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  try {
    return Metrics.fromJSON(JSON.parse(text));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
}

/** Merges result files in order; the first file's run info leads. */
export function mergeResultFiles(files: string[]): Metrics {
  if (files.length === 0) throw new UsageError('bench merge: give at least one result file');
  const [first, ...rest] = files.map(readResultFile);
  for (const m of rest) first!.merge(m);
  return first!;
}
