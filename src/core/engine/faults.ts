// What the worker pool must know about an engine's failure and its answer, decided inside the worker thread (where the
// original error object still exists):
//  - engineFault: the error says the engine itself may be broken (a WASM trap, an allocation failure), not merely that
//    the request was bad. TensorFlow.js gives no guarantee about its state after such an error: the issue this was built
//    for saw every later request on a WASM backend fail after one "memory access out of bounds". The pool discards a
//    worker that reports a fault and loads a fresh one.
//  - checkOutputs: an answer that cannot be right for the request it came from. The cpu backend answered a Flatten →
//    Dense model fed [1,1,1,1] with a [0,10] result, which would have been a 200 with `{"predictions": []}`.
import { RequestError } from '../errors.js';
import type { HostTensor, SignatureInfo } from './types.js';

/**
 * Messages of errors after which an engine cannot be trusted, whatever type they arrive with (tfjs backends rethrow
 * WASM traps and emscripten aborts as plain Errors at times, and model.ts wraps every engine error in a RequestError).
 */
const FAULT_MESSAGE = /memory access out of bounds|out of memory|unreachable|table index is out of bounds|Aborted\(|Array buffer allocation failed|call stack size exceeded|integer overflow|divide by zero|null function or function signature mismatch|indirect call/i;

/** WebAssembly.RuntimeError (a trap); looked up at run time because the project compiles without the DOM typings. */
const WasmRuntimeError = (globalThis as { WebAssembly?: { RuntimeError?: new () => Error } }).WebAssembly?.RuntimeError;

/**
 * True when `err` (or an error in its `cause` chain) is one the engine may not have survived: a WebAssembly trap, a
 * RangeError (typed-array allocation failure, stack overflow), or a message of that kind. A RequestError raised on
 * purpose for bad input (no such cause) is not a fault.
 */
export function engineFault(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    if ((WasmRuntimeError && e instanceof WasmRuntimeError) || e instanceof RangeError) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && FAULT_MESSAGE.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** An output whose values do not fill its shape: the engine wrote a truncated result. A fault. */
export class TruncatedOutputError extends Error {
  override readonly name = 'TruncatedOutputError';
}

/** The engine was found broken after a request's error (health.ts): a fault, whatever the original error looked like. */
export class EngineBrokenError extends Error {
  override readonly name = 'EngineBrokenError';
}

/**
 * An output with another number of rows than the request (checkOutputs): the request's error (INVALID_ARGUMENT), but
 * one the engine computed its way into, so the worker checks its health afterwards.
 */
export class OutputRowsError extends RequestError {}

/** Errors tfsvc raises on purpose for a bad request before or instead of computing: they say nothing about the engine. */
export function deliberateRequestError(err: unknown): boolean {
  return err instanceof RequestError && !(err instanceof OutputRowsError) && err.cause === undefined;
}

/**
 * Checks a signature's outputs against the request that produced them. Throws TruncatedOutputError (an engine fault)
 * when an output holds fewer or more values than its shape says, and OutputRowsError (INVALID_ARGUMENT) when an output
 * declared with a free batch dimension ([-1, ...]) comes back with a different number of rows than the request had:
 * the model could not compute this input, and an empty or partial answer must not reach the client as a success.
 * The batch rule applies only when every input of the signature has a free batch dimension and the request's inputs
 * agree on it (otherwise there is no request batch size to compare with).
 */
export function checkOutputs(sig: SignatureInfo | undefined, signature: string, inputs: Record<string, HostTensor>, outputs: Record<string, HostTensor>): void {
  for (const [alias, t] of Object.entries(outputs)) {
    const n = product(t.shape);
    if (t.data.length !== n) {
      throw new TruncatedOutputError(`output "${alias}" of signature ${signature} has shape [${t.shape.join(',')}] but holds ${t.data.length} values, not ${n}`);
    }
  }
  if (!sig) return;
  let rows: number | undefined;
  for (const [alias, spec] of Object.entries(sig.inputs)) {
    const t = inputs[alias];
    if (!t || spec.shape === null || spec.shape.length === 0 || spec.shape[0] !== -1 || t.shape.length === 0) return;
    if (rows === undefined) rows = t.shape[0];
    else if (rows !== t.shape[0]) return;
  }
  if (rows === undefined) return;
  for (const [alias, t] of Object.entries(outputs)) {
    const spec = sig.outputs[alias]?.shape;
    if (!spec || spec.length === 0 || spec[0] !== -1 || spec.length !== t.shape.length) continue;
    // Only an empty answer to a non-empty request is refused (the cpu backend's `[0, 10]` for a bad image): a graph may
    // legitimately return another row count under a -1 dim (a Gather with fixed indices, a reduction over the batch).
    if (t.shape[0] === 0 && rows > 0) {
      const inputShapes = Object.entries(inputs).map(([k, v]) => `"${k}" [${v.shape.join(',')}]`).join(', ');
      const specShapes = Object.entries(sig.inputs).map(([k, v]) => `"${k}" [${v.shape?.join(',') ?? '?'}]`).join(', ');
      throw new OutputRowsError(
        'INVALID_ARGUMENT',
        `signature ${signature} returned ${t.shape[0]} rows of output "${alias}" for a request of ${rows}: the model cannot compute ` +
          `this input (request ${inputShapes}; signature ${specShapes})`,
      );
    }
  }
}
