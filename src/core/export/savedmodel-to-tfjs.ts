// `tfsvc export SRC --format tfjs OUT`: one signature of a SavedModel → a tfjs graph model on disk, what
// tensorflowjs_converter --input_format=tf_saved_model does without Python. The graph is the engine's executable graph
// (functions inlined, variables frozen, optimised), so what loads in the browser is exactly what `tfsvc serve` runs.
import { buildExecutableGraph, openModelSource, servableSignatureKeys } from '../graph/build.js';
import { UsageError } from '../errors.js';
import { version } from '../../version.js';
import { writeTfjsGraphModel, type TfjsWriteResult } from './tfjs-writer.js';

export interface SavedModelToTfjsOptions {
  signature?: string;
  tags?: string[];
  /** Graph optimisations (identity removal, folding, fusion); default on. */
  optimize?: boolean;
}

export async function exportSavedModelAsTfjs(dir: string, outDir: string, opts: SavedModelToTfjsOptions = {}): Promise<TfjsWriteResult & { signature: string }> {
  const src = await openModelSource(dir, opts.tags ?? ['serve']);
  const keys = servableSignatureKeys(src.meta);
  const key = opts.signature ?? (keys.includes('serving_default') ? 'serving_default' : keys[0]);
  if (!key) throw new UsageError(`${dir}: the SavedModel has no signatures to export`);
  const graph = await buildExecutableGraph(src, key, { optimize: opts.optimize ?? true });
  // tensorflowjs_converter puts a TensorFlow version in generatedBy (the one it ran with); without TensorFlow, the
  // release that wrote the SavedModel is the closest truth, else tfsvc itself.
  const generatedBy = src.meta.metaInfoDef?.tensorflowVersion || `tfsvc ${version}`;
  const artifacts = { ...graph.artifacts, generatedBy };
  const written = await writeTfjsGraphModel(outDir, artifacts);
  return { ...written, signature: key };
}
