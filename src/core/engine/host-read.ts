// Host reads of tensors under any backend. tfsvc's host ops (string ops, table lookups, ParseExample) read their
// inputs' values in JavaScript. On wasm and cpu every tensor is readable synchronously; on webgpu a tensor that a GPU
// kernel computed lives only in GPU memory, and Node has no synchronous read of it (tfjs's readSync goes through a
// browser OffscreenCanvas, which Node lacks). tfjs's asynchronous read (`await t.data()`) maps the buffer and keeps a
// host copy of the values in the backend's tensor record, after which dataSync() answers from that copy. So a host op
// whose inputs are still on the device first reads them asynchronously, then runs as it would on wasm; tfjs-converter
// accepts a Promise from a custom op when the graph runs with executeAsync (model.ts runs such graphs that way on
// webgpu). String tensors are always host values on every backend.
//
// Outputs are created with tf.tensor on the running backend: on webgpu they start as host values and are uploaded
// only if a GPU kernel uses them, so a chain of host ops never round-trips through the GPU.
import * as tf from '@tensorflow/tfjs-core';

interface BackendWithRecords {
  tensorMap?: { get(dataId: object): { values?: unknown } | undefined };
}

/** Whether `t`'s values exist only on the device (a webgpu tensor a GPU kernel computed and nobody has read yet). */
export function onDeviceOnly(t: tf.Tensor): boolean {
  if (t.dtype === 'string' || tf.getBackend() !== 'webgpu') return false;
  const record = (tf.engine().backend as BackendWithRecords).tensorMap?.get(t.dataId);
  return record !== undefined && record.values == null;
}

/**
 * Runs `run(node)` once every input of `node` can be read on the host: synchronously when they already can (always on
 * wasm and cpu), else after reading the device-only ones asynchronously (a Promise of run's result).
 */
export function withHostInputs<N extends { inputs: tf.Tensor[] }, R>(node: N, run: (node: N) => R): R | Promise<R> {
  const pending = node.inputs.filter((t) => t !== undefined && onDeviceOnly(t));
  if (pending.length === 0) return run(node);
  return Promise.all(pending.map((t) => t.data())).then(() => run(node));
}

let quieted = false;

/**
 * tfjs-converter prints "This model execution did not contain any nodes with control flow or dynamic output shapes.
 * You can use model.execute() instead." on every executeAsync of a graph without control flow: advice that does not
 * apply to graphs tfsvc runs asynchronously on purpose (host ops waiting for a GPU read), and one line per request
 * would flood a server's log. Drops that one message from console.warn (installed once per thread); every other
 * warning passes through.
 */
export function quietExecuteAsyncAdvice(): void {
  if (quieted) return;
  quieted = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('This model execution did not contain any nodes with control flow')) return;
    warn(...args);
  };
}
