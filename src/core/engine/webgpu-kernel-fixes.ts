// Corrections to tfjs 4.22's WebGPU kernels that compute wrong answers or do not compile; each replaces the kernel on
// `webgpu` with one built from tfjs's own correct WebGPU kernels, so the op stays on the GPU.
//
// Bincount / DenseBincount (Keras text vectorization turns token positions into row splits with Bincount; Keras
// CategoryEncoding one-/multi-hot is DenseBincount with binary_output): the shader always accumulates float32 bits
// (atomicAddSnippet(..., 'float32')) whatever the output dtype, so an int32 result holds float bit patterns (5 reads
// as 1084227584); and binary_output=true emits atomicStore on a non-atomic buffer, which WGSL rejects ("no matching
// call to atomicStore"); and a matrix input (one row of counts per row, as Keras encodes a [batch, 1] column) loses
// counts past the first 64 output elements. Replacement: tfjs's vector Bincount counting in float32 (exact up to 2^24
// per bin), a matrix counted as one vector with per-row offsets, clipped to 1 for binary_output (TensorFlow's binary
// output ignores the weights and writes 1), and cast to the output dtype.
import * as tf from '@tensorflow/tfjs-core';

type KernelFunc = tf.KernelConfig['kernelFunc'];
interface GpuBackendLike extends tf.KernelBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

let installed = false;

/** The kernels replaced on webgpu (for docs and tests). */
export const FIXED_WEBGPU_KERNELS = ['Bincount', 'DenseBincount'] as const;

interface Kernels {
  original: KernelFunc;
  cast: KernelFunc;
  minimum: KernelFunc;
  maximum: KernelFunc;
  add: KernelFunc;
  reshape: KernelFunc;
  slice: KernelFunc;
}

/** Replaces the broken WebGPU kernels (idempotent; after @tensorflow/tfjs-backend-webgpu is imported). */
export function installWebGpuKernelFixes(): void {
  if (installed) return;
  const kernel = (name: string): KernelFunc => {
    const k = tf.getKernel(name, 'webgpu');
    if (!k) throw new Error(`tfjs's WebGPU backend has no ${name} kernel`);
    return k.kernelFunc;
  };
  const base = { cast: kernel('Cast'), minimum: kernel('Minimum'), maximum: kernel('Maximum'), add: kernel('Add'), reshape: kernel('Reshape'), slice: kernel('Slice') };
  // The 1D counting both kernels build on: tfjs's Bincount shader, which is right for float32 counts of a vector.
  const original = kernel('Bincount');
  for (const name of FIXED_WEBGPU_KERNELS) {
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: (args) => bincount(args, { ...base, original }) });
  }
  installed = true;
}

/**
 * Bincount (x a vector) and DenseBincount (x a vector or a matrix, one row of counts per row). A matrix is counted as
 * one vector: row r's value v goes to bin r * (size + 2) + clamp(v, -1, size) + 1, so values below 0 and at or above
 * size fall into two spare bins per row that are sliced away (TensorFlow ignores values >= size; it refuses negative
 * ones, which are ignored here). tfjs's own rank-2 shader loses counts past the first 64 output elements.
 */
function bincount(args: Parameters<KernelFunc>[0], k: Kernels): tf.TensorInfo {
  const backend = args.backend as GpuBackendLike;
  const { x, weights } = args.inputs as { x: tf.TensorInfo; weights: tf.TensorInfo };
  const size = Number(args.attrs?.size);
  const binary = args.attrs?.binaryOutput === true;
  const dtype = weights.dtype;
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo | tf.TensorInfo[]): tf.TensorInfo => {
    const info = Array.isArray(t) ? t[0]! : t;
    temps.push(info);
    return info;
  };
  const run = (f: KernelFunc, inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap = {}) => keep(f({ inputs, backend, attrs }) as tf.TensorInfo);
  const scalar = (v: number) => keep(backend.makeTensorInfo([], 'int32', new Int32Array([v])));
  try {
    const hasWeights = !binary && tf.util.sizeFromShape(weights.shape) > 0;
    let w = hasWeights ? (dtype === 'float32' ? weights : run(k.cast, { x: weights }, { dtype: 'float32' })) : keep(backend.makeTensorInfo([0], 'float32', new Float32Array(0)));
    let flat = x;
    let bins = size;
    const rows = x.shape.length === 2 ? x.shape[0]! : 0;
    if (x.shape.length === 2) {
      const stride = size + 2;
      const clamped = run(k.maximum, { a: run(k.minimum, { a: x, b: scalar(size) }), b: scalar(-1) });
      const offsets = keep(backend.makeTensorInfo([rows, 1], 'int32', Int32Array.from({ length: rows }, (_, r) => r * stride + 1)));
      flat = run(k.reshape, { x: run(k.add, { a: clamped, b: offsets }) }, { shape: [-1] });
      if (hasWeights) w = run(k.reshape, { x: w }, { shape: [-1] });
      bins = rows * stride;
    }
    let counts = run(k.original, { x: flat, weights: w }, { size: bins });
    if (x.shape.length === 2) {
      counts = run(k.slice, { x: run(k.reshape, { x: counts }, { shape: [rows, size + 2] }) }, { begin: [0, 1], size: [rows, size] });
    }
    if (binary) counts = run(k.minimum, { a: counts, b: keep(backend.makeTensorInfo([], 'float32', new Float32Array([1]))) });
    const out = dtype === 'float32' ? counts : run(k.cast, { x: counts }, { dtype });
    temps.splice(temps.indexOf(out), 1);
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
