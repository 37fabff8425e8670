// `tfsvc export model.json --format savedmodel OUT`: a TensorFlow.js model (Layers or graph) → a SavedModel.
import { ModelError } from '../errors.js';
import { graphModelToGraph } from './graph-model-to-graph.js';
import { layersModelToGraph } from './layers-to-graph.js';
import { writeSavedModel } from './savedmodel-writer.js';
import { readTfjsModel } from './tfjs-model-file.js';
import type { FrozenGraph } from './types.js';

export interface TfjsExportResult {
  kind: 'layers-model' | 'graph-model';
  frozen: FrozenGraph;
  files: string[];
}

/** Reads the tfjs model at `modelJson` and converts it to a frozen graph with a serving_default signature. */
export async function tfjsToFrozenGraph(modelJson: string): Promise<{ kind: TfjsExportResult['kind']; frozen: FrozenGraph }> {
  const model = await readTfjsModel(modelJson);
  try {
    const frozen = model.kind === 'layers-model' ? layersModelToGraph(model) : graphModelToGraph(model);
    return { kind: model.kind, frozen };
  } catch (err) {
    if (err instanceof ModelError && !err.file) throw new ModelError(`${modelJson}: ${err.message}`, modelJson, { cause: err });
    throw err;
  }
}

/** Converts and writes the SavedModel into `outDir` (which must be new or empty). */
export async function exportTfjsAsSavedModel(modelJson: string, outDir: string): Promise<TfjsExportResult> {
  const { kind, frozen } = await tfjsToFrozenGraph(modelJson);
  const files = await writeSavedModel(outDir, frozen);
  return { kind, frozen, files };
}
