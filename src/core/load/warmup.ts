// `tfsvc warmup`: one dummy request (or --repeat N) for every predict signature at each batch size, from the
// endpoint's metadata, with a summary of what answered and how fast. The same requests can be written as a TF
// Serving warmup file so the server replays them when it loads the model.
import { performance } from 'node:perf_hooks';
import type { HostTensor } from '../engine/types.js';
import { HttpClient } from './client.js';
import type { SignatureSpec } from './metadata.js';
import { seededRandom } from './prng.js';
import { restPredictBody } from './restbody.js';
import type { Target } from './target.js';
import { generateInputs } from './tensorgen.js';

export interface WarmupRow {
  signature: string;
  batch: number;
  /** HTTP status of the last attempt; 0 when skipped or unreachable. */
  status: number;
  ok: boolean;
  /** First request's latency (ms), the cold one. */
  firstMs: number;
  /** Median of the repeats after the first (ms); NaN without repeats. */
  warmMs: number;
  note?: string;
  inputs?: Record<string, HostTensor>;
}

export interface WarmupOptions {
  batches: number[];
  repeat: number;
  seed: number;
  unknownDim: number;
  timeoutMs: number;
}

export async function runWarmup(target: Target, signatures: SignatureSpec[], o: WarmupOptions): Promise<WarmupRow[]> {
  const client = new HttpClient(target.predictUrl, { connections: 1, timeoutMs: o.timeoutMs });
  const rows: WarmupRow[] = [];
  try {
    for (const sig of signatures) {
      if (!sig.method.endsWith('/predict')) {
        rows.push({ signature: sig.name, batch: 0, status: 0, ok: true, firstMs: NaN, warmMs: NaN, note: `skipped: ${sig.method.split('/').pop()} signature (tf.Example input)` });
        continue;
      }
      for (const batch of o.batches) {
        let inputs: Record<string, HostTensor>;
        let notes: string[];
        try {
          ({ inputs, notes } = generateInputs(sig, { batch, unknownDim: o.unknownDim, random: seededRandom(o.seed) }));
        } catch (err) {
          rows.push({ signature: sig.name, batch, status: 0, ok: false, firstMs: NaN, warmMs: NaN, note: (err as Error).message });
          continue;
        }
        const body = Buffer.from(JSON.stringify(restPredictBody(sig.name, inputs)));
        const times: number[] = [];
        let status = 0;
        let note = notes[0];
        let ok = true;
        for (let i = 0; i < o.repeat; i++) {
          const t = performance.now();
          const out = await client.send(body);
          times.push(performance.now() - t);
          status = out.status;
          if (out.error) {
            ok = false;
            note = `${out.error === 'http' ? `HTTP ${out.status}` : out.error}: ${(out.message ?? '').replace(/\s+/g, ' ').slice(0, 160)}`;
            break;
          }
        }
        const rest = times.slice(1).sort((a, b) => a - b);
        rows.push({ signature: sig.name, batch, status, ok, firstMs: times[0] ?? NaN, warmMs: rest.length ? rest[Math.floor(rest.length / 2)]! : NaN, note, inputs });
      }
    }
  } finally {
    await client.close();
  }
  return rows;
}
