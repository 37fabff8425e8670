// A loaded signature's canary: one all-zero batch-1 request and the answer it got when the version was loaded.
//  - At load, running it is the proof that the signature can run at all (issue 8: every servable signature runs once
//    before the version may become AVAILABLE); a failure fails the load.
//  - After a request fails inside the engine with an ordinary-looking error, running it again tells whether the engine
//    survived: on the WASM backend a request with impossible shapes (a convolution whose output size is negative) can
//    write outside its buffers, answer with a harmless-looking "Error in fused matMul", and leave the engine corrupted
//    so that the NEXT request, a valid one, traps. A canary that now fails or answers differently marks the worker as
//    faulted, so the pool replaces it before a good request lands there.
// Signatures whose inputs cannot be generated (strings, tf.Examples, unknown inner dims) have no canary.
import { generateInputs } from './generate-inputs.js';
import type { HostTensor, LoadedModel, SignatureInfo } from './types.js';

export interface Canary {
  inputs: Record<string, HostTensor>;
  outputs: Record<string, HostTensor>;
}

/** A signature that cannot run its canary: the version must not become AVAILABLE. */
export class CanaryRunError extends Error {
  override readonly name = 'CanaryRunError';
}

function cloneTensor(t: HostTensor): HostTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: Array.isArray(t.data) ? t.data.map((b) => b.slice()) : (t.data.slice() as HostTensor['data']) };
}

function cloneInputs(inputs: Record<string, HostTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(inputs)) out[k] = cloneTensor(t);
  return out;
}

/** All-zero batch-1 inputs for `sig`, or undefined when they cannot be generated. */
function zeroInputs(sig: SignatureInfo): Record<string, HostTensor> | undefined {
  try {
    const { inputs } = generateInputs(sig.inputs, { batch: 1, values: 'zeros', shapes: 'batched' });
    return Object.keys(inputs).length === Object.keys(sig.inputs).length ? inputs : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `signature` of `model` once on generated zeros and keeps the answer. Undefined when no input can be generated;
 * CanaryRunError (with the engine's message) when the run fails.
 */
export async function recordCanary(model: LoadedModel, signature: string): Promise<Canary | undefined> {
  const sig = model.signatures[signature];
  const inputs = sig && zeroInputs(sig);
  if (!inputs) return undefined;
  try {
    const outputs = await model.run(signature, cloneInputs(inputs));
    return { inputs, outputs };
  } catch (err) {
    throw new CanaryRunError(`signature ${signature} cannot run: its load-time check on generated input (batch 1, zeros) failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

/** Values equal, allowing for the last bits of float arithmetic (threaded kernels may sum in another order). */
function same(a: HostTensor, b: HostTensor): boolean {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]) || a.data.length !== b.data.length) return false;
  if (Array.isArray(a.data) || Array.isArray(b.data)) {
    const x = a.data as Uint8Array[];
    const y = b.data as Uint8Array[];
    return Array.isArray(x) && Array.isArray(y) && x.every((v, i) => Buffer.compare(v, y[i]!) === 0);
  }
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) {
    const u = Number(x[i]);
    const v = Number(y[i]);
    if (u === v || (Number.isNaN(u) && Number.isNaN(v))) continue;
    if (Math.abs(u - v) > 1e-4 * Math.max(1, Math.abs(u), Math.abs(v))) return false;
  }
  return true;
}

/** Undefined when the canary still gets its load-time answer; otherwise what went wrong. */
export async function canaryProblem(model: LoadedModel, signature: string, canary: Canary): Promise<string | undefined> {
  let outputs: Record<string, HostTensor>;
  try {
    outputs = await model.run(signature, cloneInputs(canary.inputs));
  } catch (err) {
    return `a known-good request now fails (${(err as Error)?.message ?? String(err)})`;
  }
  for (const [alias, want] of Object.entries(canary.outputs)) {
    const got = outputs[alias];
    if (!got || !same(got, want)) return `a known-good request now answers differently (output "${alias}")`;
  }
  return undefined;
}
