// Resolves what a bench sends: the target's URL and the request bodies (a --data file, or generated from the
// endpoint's metadata for the chosen signature).
import { fileBodies, generatedBodies, type BodySet } from './bodies.js';
import { fetchMetadata, pickSignature } from './metadata.js';
import type { Target } from './target.js';

export interface DataOptions {
  data?: string;
  batch: number;
  seed: number;
  unknownDim: number;
  timeoutMs: number;
  /** Distinct generated bodies to cycle through. */
  variety?: number;
}

export async function prepareBodies(target: Target, o: DataOptions): Promise<BodySet> {
  if (o.data) return fileBodies(o.data, target.signature);
  const meta = await fetchMetadata(target, o.timeoutMs);
  const sig = pickSignature(meta.signatures, target.signature);
  // Name the signature in the body unless it is the server's default anyway.
  return generatedBodies(sig, {
    batch: o.batch,
    seed: o.seed,
    unknownDim: o.unknownDim,
    count: o.variety ?? 16,
    sendSignature: target.signature !== undefined || sig.name !== 'serving_default',
  });
}
