// `tfsvc warmup`: one dummy request (or --repeat N) for every predict signature at each batch size, from the
// endpoint's metadata, with a summary of what answered and how fast. Classify/regress signatures are warmed through
// :classify / :regress when --feature names their tf.Example features, and skipped (saying why) otherwise. The same requests can be written as a TF
// Serving warmup file so the server replays them when it loads the model.
import { performance } from 'node:perf_hooks';
import { generateExamples, generateInputs, type FeatureSpec, type GeneratedExample } from '../engine/generate-inputs.js';
import type { HostTensor } from '../engine/types.js';
import { seededRandom } from '../prng.js';
import { encoderOf, endpointOf, type Sender } from './endpoint.js';
import type { SignatureSpec } from './metadata.js';
import { planRequests } from './examples.js';
import type { InferenceVerb, Target } from './target.js';

export interface WarmupRow {
  signature: string;
  batch: number;
  /** HTTP status of the last attempt (gRPC: the HTTP equivalent of its status); 0 when skipped or unreachable. */
  status: number;
  ok: boolean;
  /** First request's latency (ms), the cold one. */
  firstMs: number;
  /** Median of the repeats after the first (ms); NaN without repeats. */
  warmMs: number;
  note?: string;
  /** The API the request went to; undefined when skipped. */
  verb?: InferenceVerb;
  /** The predict request's tensors (what --write saves). */
  inputs?: Record<string, HostTensor>;
  /** The classify/regress request's examples (what --write saves). */
  examples?: GeneratedExample[];
}

export interface WarmupOptions {
  batches: number[];
  repeat: number;
  seed: number;
  unknownDim: number;
  timeoutMs: number;
  /** tf.Example features for classify/regress signatures (--feature); without them those signatures are skipped. */
  features?: FeatureSpec[];
  /**
   * Send tf.Examples to classify/regress signatures whose input is not DT_STRING too (the user picked the signature
   * with --signature); otherwise those get tensors through :predict (see planRequests).
   */
  examplesForAny?: boolean;
}

export async function runWarmup(target: Target, signatures: SignatureSpec[], o: WarmupOptions): Promise<WarmupRow[]> {
  const features = o.features ?? [];
  // One client per API: predict bodies go to :predict (gRPC Predict), tf.Example bodies to :classify / :regress.
  const clients = new Map<InferenceVerb, Sender>();
  const clientFor = (verb: InferenceVerb) => {
    let c = clients.get(verb);
    if (!c) clients.set(verb, (c = endpointOf(target, verb).open({ connections: 1, timeoutMs: o.timeoutMs })));
    return c;
  };
  const encoder = encoderOf(target);
  const rows: WarmupRow[] = [];
  try {
    for (const sig of signatures) {
      // --feature settles an ambiguous classify/regress signature (see planRequests) only when it was picked by name.
      const plan = planRequests(sig, features.length > 0 && o.examplesForAny === true);
      const verb = plan.verb === 'predict' ? undefined : plan.verb;
      if (verb && !features.length) {
        rows.push({ signature: sig.name, batch: 0, status: 0, ok: true, firstMs: NaN, warmMs: NaN, note: `skipped: ${verb}, tf.Example input (give --feature)` });
        continue;
      }
      const known = ['predict', 'classify', 'regress'].some((m) => sig.method.endsWith(`/${m}`));
      if (!known) {
        rows.push({ signature: sig.name, batch: 0, status: 0, ok: true, firstMs: NaN, warmMs: NaN, note: `skipped: ${sig.method} signature` });
        continue;
      }
      for (const batch of o.batches) {
        if (verb) {
          const examples = generateExamples(features, batch, seededRandom(o.seed));
          const timed = await timeRequests(clientFor(verb), encoder.examples(verb, sig.name, examples), o.repeat, target.protocol);
          rows.push({ signature: sig.name, batch, verb, ...timed, note: timed.note ?? plan.shortNote, examples });
          continue;
        }
        let inputs: Record<string, HostTensor>;
        let notes: string[];
        try {
          ({ inputs, notes } = generateInputs(sig.inputs, { batch, unknownDim: o.unknownDim, values: seededRandom(o.seed) }));
        } catch (err) {
          rows.push({ signature: sig.name, batch, status: 0, ok: false, firstMs: NaN, warmMs: NaN, note: (err as Error).message });
          continue;
        }
        const body = encoder.predict(sig.name, inputs);
        const timed = await timeRequests(clientFor('predict'), body, o.repeat, target.protocol);
        rows.push({ signature: sig.name, batch, verb: 'predict', ...timed, note: timed.note ?? plan.shortNote ?? notes[0], inputs });
      }
    }
  } finally {
    for (const c of clients.values()) await c.close();
  }
  return rows;
}

/** Sends `body` `repeat` times (stopping at the first failure): the first latency, the median of the rest. */
async function timeRequests(client: Sender, body: Buffer, repeat: number, protocol: Target['protocol']): Promise<Pick<WarmupRow, 'status' | 'ok' | 'firstMs' | 'warmMs' | 'note'>> {
  const times: number[] = [];
  let status = 0;
  let note: string | undefined;
  let ok = true;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    const out = await client.send(body);
    times.push(performance.now() - t);
    status = out.status;
    if (out.error) {
      ok = false;
      note = `${out.error === 'http' ? (protocol === 'grpc' ? 'gRPC' : `HTTP ${out.status}`) : out.error}: ${(out.message ?? '').replace(/\s+/g, ' ').slice(0, 160)}`;
      break;
    }
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  return { status, ok, firstMs: times[0] ?? NaN, warmMs: rest.length ? rest[Math.floor(rest.length / 2)]! : NaN, note };
}
