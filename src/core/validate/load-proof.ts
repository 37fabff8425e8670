// The load check's proof that a loaded model runs: "every op supported" is a statement about op names, and a model can
// pass it and still crash in the executor (a TensorList a loop disposed too early, a shape only batch 1 takes). So
// every servable signature is executed on generated inputs of its declared shape, at batch 1 and 2, and, where an
// input has a free time axis (rank 2 or 3 with dimension 1 unknown: sequences), at sequence length 1 and 3.
import { generateInputs, type ExampleInputs } from '../engine/generate-inputs.js';
import type { EngineModel } from '../engine/model.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { TfsvcError } from '../errors.js';
import { seededRandom } from '../prng.js';

export interface LoadProof {
  /** Signature → the first failure (shapes fed and the engine's message, which names the failing node). */
  failures: Record<string, string>;
  /** Signatures with no generated input (e.g. raw text that random words cannot stand for), with the reason. */
  skipped: Record<string, string>;
  /** What was run, for the check's detail: e.g. "batch 1, 2; sequence length 1, 3". */
  ran: string;
}

export const PROOF_BATCHES = [1, 2] as const;
export const PROOF_SEQUENCE_LENGTHS = [1, 3] as const;

/** Whether some input of `sig` is a sequence with an unknown time axis ([batch, time] or [batch, time, features]). */
export function hasFreeTimeAxis(sig: SignatureInfo): boolean {
  return Object.values(sig.inputs).some((s) => s.shape !== null && (s.shape.length === 2 || s.shape.length === 3) && s.shape[1]! < 0);
}

/** Runs every signature of `model` at each proof shape; never throws for a signature that fails (it is reported). */
export async function proveLoad(model: EngineModel, gen: ExampleInputs): Promise<LoadProof> {
  const failures: Record<string, string> = {};
  const skipped: Record<string, string> = {};
  let sequences = false;
  for (const [key, sig] of Object.entries(model.signatures)) {
    const lengths = hasFreeTimeAxis(sig) ? PROOF_SEQUENCE_LENGTHS : [undefined];
    sequences ||= lengths.length > 1;
    runs: for (const batch of PROOF_BATCHES) {
      for (const unknownDim of lengths) {
        let inputs: Record<string, HostTensor>;
        try {
          ({ inputs } = generateInputs(sig.inputs, { batch, unknownDim, values: seededRandom(batch), examples: { method: sig.methodName, ...gen } }));
        } catch (err) {
          skipped[key] = `cannot generate inputs: ${message(err)}`;
          break runs;
        }
        try {
          await model.run(key, inputs);
        } catch (err) {
          failures[key] = `failed on generated inputs ${describeInputs(inputs)}: ${message(err)}`;
          break runs;
        }
      }
    }
  }
  const ran = `batch ${PROOF_BATCHES.join(', ')}${sequences ? `; sequence length ${PROOF_SEQUENCE_LENGTHS.join(', ')}` : ''}`;
  return { failures, skipped, ran };
}

export function describeInputs(ts: Record<string, HostTensor>): string {
  if (!Object.keys(ts).length) return '(no inputs)';
  return Object.entries(ts).map(([k, t]) => `${k} ${t.dtype.replace(/^DT_/, '').toLowerCase()}[${t.shape.join(',')}]`).join(', ');
}

/** A check's one-line reason: tfsvc's own message, or an unexpected error marked as internal. */
export function message(err: unknown): string {
  if (err instanceof TfsvcError) return err.message;
  return `internal error: ${(err as Error)?.message ?? String(err)}`;
}
