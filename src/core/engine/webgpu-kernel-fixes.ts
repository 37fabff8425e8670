// Corrections to tfjs 4.22's WebGPU kernels that compute wrong answers or do not compile; each replaces the kernel on
// `webgpu` with one built from tfjs's own correct WebGPU kernels, so the op stays on the GPU.
//
// Bincount / DenseBincount (Keras text vectorization turns token positions into row splits with Bincount; Keras
// CategoryEncoding one-/multi-hot is DenseBincount with binary_output): the shader always accumulates float32 bits
// (atomicAddSnippet(..., 'float32')) whatever the output dtype, so an int32 result holds float bit patterns (5 reads
// as 1084227584); and binary_output=true emits atomicStore on a non-atomic buffer, which WGSL rejects ("no matching
// call to atomicStore"). Replacement: count in float32 without weights' dtype problems (exact up to 2^24 per bin), clip
// to 1 when binary_output (TensorFlow's binary output ignores the weights and writes 1), and cast to the output dtype.
import * as tf from '@tensorflow/tfjs-core';

type KernelFunc = tf.KernelConfig['kernelFunc'];
interface GpuBackendLike extends tf.KernelBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

let installed = false;

/** The kernels replaced on webgpu (for docs and tests). */
export const FIXED_WEBGPU_KERNELS = ['Bincount', 'DenseBincount'] as const;

/** Replaces the broken WebGPU kernels (idempotent; after @tensorflow/tfjs-backend-webgpu is imported). */
export function installWebGpuKernelFixes(): void {
  if (installed) return;
  const kernel = (name: string): KernelFunc => {
    const k = tf.getKernel(name, 'webgpu');
    if (!k) throw new Error(`tfjs's WebGPU backend has no ${name} kernel`);
    return k.kernelFunc;
  };
  const cast = kernel('Cast');
  const minimum = kernel('Minimum');
  for (const name of FIXED_WEBGPU_KERNELS) {
    const original = kernel(name);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: (args) => bincount(args, original, cast, minimum) });
  }
  installed = true;
}

function bincount(args: Parameters<KernelFunc>[0], original: KernelFunc, cast: KernelFunc, minimum: KernelFunc): tf.TensorInfo {
  const backend = args.backend as GpuBackendLike;
  const { x, weights } = args.inputs as { x: tf.TensorInfo; weights: tf.TensorInfo };
  const binary = args.attrs?.binaryOutput === true;
  const dtype = weights.dtype;
  if (!binary && dtype === 'float32') return original(args) as tf.TensorInfo;
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (temps.push(t), t);
  try {
    const hasWeights = !binary && tf.util.sizeFromShape(weights.shape) > 0;
    const w = hasWeights
      ? keep(cast({ inputs: { x: weights }, backend, attrs: { dtype: 'float32' } }) as tf.TensorInfo)
      : keep(backend.makeTensorInfo([0], 'float32', new Float32Array(0)));
    let counts = keep(original({ inputs: { x, weights: w }, backend, attrs: { ...args.attrs, binaryOutput: false } }) as tf.TensorInfo);
    if (binary) {
      const one = keep(backend.makeTensorInfo([], 'float32', new Float32Array([1])));
      counts = keep(minimum({ inputs: { a: counts, b: one }, backend, attrs: {} }) as tf.TensorInfo);
    }
    if (dtype === 'float32') {
      temps.splice(temps.indexOf(counts), 1);
      return counts;
    }
    return cast({ inputs: { x: counts }, backend, attrs: { dtype } }) as tf.TensorInfo;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
