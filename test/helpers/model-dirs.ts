// SavedModel directories written from MetaGraphDefs that tests build by hand: each call writes saved_model.pb into a
// fresh temp directory, and removeModelDirs() (call it from `after`) deletes every directory written so far.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePlain } from '../../src/core/proto/schema.js';
import type { MetaGraphDef } from '../../src/core/savedmodel/types.js';

const dirs: string[] = [];

/** Writes `meta` as the only meta graph of a SavedModel in a new temp directory (prefix names it); returns the directory. */
export function writeModelDir(meta: MetaGraphDef, prefix = 'tfsvc-model-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
  return dir;
}

export function removeModelDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
