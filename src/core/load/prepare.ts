// Resolves what a bench sends: the request bodies (a --data file, or generated from the endpoint's metadata for the
// chosen signature) and the API they go to. Predict signatures get tensors generated from their metadata. Classify
// and regress signatures take tf.Examples, whose features the metadata does not name: they get examples built from
// --feature flags, and a clear usage error without them. A :classify / :regress URL forces that API; otherwise the
// signature's method_name decides.
import { readFileSync } from 'node:fs';
import { exampleVerb, type ExampleVerb, type FeatureSpec } from '../engine/generate-inputs.js';
import { UsageError } from '../errors.js';
import { fileBodies, generatedBodies, warmupFileRequests, type BodySet } from './bodies.js';
import { encoderOf } from './endpoint.js';
import { featuresNeeded, generatedExampleBodies, planRequests } from './examples.js';
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
  /** tf.Example features for classify/regress signatures (--feature). */
  features?: FeatureSpec[];
}

/** The verb a :classify / :regress URL forces (a :predict URL, like a server URL, leaves it to the signature). */
function forcedVerb(target: Target): ExampleVerb | undefined {
  return target.verb === 'classify' || target.verb === 'regress' ? target.verb : undefined;
}

export async function prepareBodies(target: Target, o: DataOptions): Promise<BodySet> {
  const features = o.features ?? [];
  const encoder = encoderOf(target);
  if (o.data && target.protocol === 'grpc') {
    // gRPC sends protobuf messages: a warmup file's PredictRequests re-encode exactly; JSONL bodies are REST JSON.
    if (features.length) throw new UsageError('give --feature (generated tf.Examples) or --data (request bodies), not both');
    if (!isWarmupFile(o.data)) {
      throw new UsageError(`--data ${o.data}: over gRPC, --data takes a TF Serving warmup file (tf_serving_warmup_requests); JSONL bodies are REST JSON (use an http:// target)`);
    }
    return { ...warmupFileRequests(o.data, (signature, inputs) => encoder.predict(signature ?? target.signature, inputs)), verb: 'predict' };
  }
  if (o.data) {
    if (features.length) throw new UsageError('give --feature (generated tf.Examples) or --data (request bodies), not both');
    const set = fileBodies(o.data, target.signature);
    if (!set.examples) {
      if (forcedVerb(target)) throw new UsageError(`${target.modelPath}:${target.verb} takes {"examples": [...]} bodies, but --data ${o.data} holds predict bodies`);
      return { ...set, verb: 'predict' };
    }
    let verb = forcedVerb(target);
    if (!verb) {
      const meta = await fetchMetadata(target, o.timeoutMs);
      const sig = pickSignature(meta.signatures, set.examples.signature ?? target.signature);
      verb = exampleVerb(sig.method);
      if (!verb) {
        throw new UsageError(`--data ${o.data} holds tf.Example bodies ("examples"), but signature ${sig.name} is a ${sig.method} signature; name the API with a .../v1/models/NAME:classify or :regress URL`);
      }
    }
    return { ...set, verb, source: `${set.source} (:${verb})` };
  }
  const meta = await fetchMetadata(target, o.timeoutMs);
  const sig = pickSignature(meta.signatures, target.signature);
  // Name the signature in the body unless it is the server's default anyway.
  const sendSignature = target.signature !== undefined || sig.name !== 'serving_default';
  const plan = planRequests(sig, features.length > 0);
  const verb = forcedVerb(target) ?? (plan.verb === 'predict' ? undefined : plan.verb);
  if (verb) {
    if (!features.length) throw featuresNeeded(sig, verb);
    const encode = target.protocol === 'grpc' ? (s: string | undefined, ex: Parameters<typeof encoder.examples>[2]) => encoder.examples(verb, s, ex) : undefined;
    const bodies = generatedExampleBodies(sendSignature ? sig.name : undefined, features, { batch: o.batch, seed: o.seed, count: o.variety ?? 16, encode });
    const described = features.map((f) => `${f.name}=${f.kind}${f.length > 1 ? `[${f.length}]` : ''}`).join(', ');
    const notes = plan.note && !forcedVerb(target) ? [plan.note] : [];
    return { bodies, verb, batch: o.batch, source: `generated tf.Examples (${described}): signature ${sig.name}, :${verb}, batch ${o.batch}, seed ${o.seed}`, notes };
  }
  if (features.length) throw new UsageError(`--feature builds tf.Examples for classify/regress signatures; signature ${sig.name} is a ${sig.method} signature`);
  // generatedBodies refuses classify/regress methods; a planned predict call on one is deliberate (see planRequests).
  const set = generatedBodies(
    { ...sig, method: 'tensorflow/serving/predict' },
    { batch: o.batch, seed: o.seed, unknownDim: o.unknownDim, count: o.variety ?? 16, sendSignature, encode: encoder.predict },
  );
  return { ...set, verb: 'predict', notes: [...(plan.note ? [plan.note] : []), ...set.notes] };
}

/** A TF Serving warmup file (TFRecord), by its name or by not starting like JSON (as fileBodies decides). */
function isWarmupFile(file: string): boolean {
  if (file.endsWith('tf_serving_warmup_requests')) return true;
  let head: string;
  try {
    head = readFileSync(file).toString('utf8', 0, 64).trimStart();
  } catch (err) {
    throw new UsageError(`--data ${file}: ${(err as Error).message}`);
  }
  return !(head.startsWith('{') || head === '');
}
