// Per-op CPU fallback for the WebGPU backend. tfjs 4.22's WebGPU backend lacks kernels that its CPU backend has (string
// ops such as StringSplit and StringToHashBucketFast, Unique, the Sparse* and Ragged* ops, NonMaxSuppressionV4,
// BitwiseAnd). Rather than refuse a model that uses one, each missing kernel is registered on `webgpu` as a wrapper
// that runs the CPU kernel on host copies of its inputs and hands the result back as a webgpu tensor; every other op of
// the graph stays on the GPU.
//
// Contract: a fallback op needs its inputs in host memory. String tensors always are, and so are feeds, constants
// that no GPU kernel has used yet, results of other fallback ops and of tfsvc's host ops, and small results tfjs itself
// computes on the CPU. A tfjs kernel runs synchronously and Node has no synchronous read of GPU memory (tfjs's browser
// path goes through an OffscreenCanvas), so an input that a GPU kernel computed cannot be read here: that run fails
// with an error naming the op, rather than computing something else. (tfsvc's own host ops do not have this limit:
// they run as converter ops that can wait for an asynchronous read; see host-read.ts.)
import * as tf from '@tensorflow/tfjs-core';
import { HOST_READ_OPS } from './custom-ops.js';

let installed: string[] | undefined;

interface TensorData {
  values?: unknown;
  dtype?: string;
}
interface GpuBackendLike extends tf.KernelBackend {
  tensorMap: { get(dataId: object): TensorData | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: unknown): tf.TensorInfo;
}
type CpuBackendLike = tf.KernelBackend & {
  write(values: unknown, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): unknown;
  disposeData(dataId: object): boolean;
};

/** Names of kernels that run on the CPU under the webgpu backend (installed once per thread). */
export function cpuFallbackKernels(): readonly string[] {
  return installed ?? [];
}

/** Registers a CPU-running `webgpu` kernel for every kernel the CPU backend has and WebGPU lacks. Idempotent. */
export async function installCpuFallbacks(): Promise<readonly string[]> {
  if (installed) return installed;
  await import('@tensorflow/tfjs-backend-cpu');
  const onGpu = new Set(tf.getKernelsForBackend('webgpu').map((k) => k.kernelName));
  const names: string[] = [];
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (onGpu.has(k.kernelName)) continue;
    names.push(k.kernelName);
    const cpuKernel = k;
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => runOnCpu(cpuKernel, inputs, backend as unknown as GpuBackendLike, attrs),
    });
  }
  installed = names.sort();
  return installed;
}

function runOnCpu(kernel: tf.KernelConfig, inputs: tf.NamedTensorInfoMap, gpu: GpuBackendLike, attrs?: tf.NamedAttrMap): tf.TensorInfo | tf.TensorInfo[] {
  const cpu = tf.engine().findBackend('cpu') as CpuBackendLike;
  const moved: tf.TensorInfo[] = [];
  const cpuInputs: Record<string, tf.TensorInfo> = {};
  try {
    for (const [name, t] of Object.entries(inputs)) {
      if (!t) continue;
      const d = gpu.tensorMap.get(t.dataId);
      if (!d || (d.values == null && t.dtype !== 'string')) {
        throw new Error(
          `op ${kernel.kernelName} has no WebGPU kernel and runs on the CPU, but its input ${name} was computed on the GPU, which Node cannot read back in the middle of a graph; run this model with --backend wasm`,
        );
      }
      const info = { dataId: cpu.write(d.values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
      moved.push(info);
      cpuInputs[name] = info;
    }
    const result = kernel.kernelFunc({ inputs: Array.isArray(inputs) ? (Object.values(cpuInputs) as unknown as tf.NamedTensorInfoMap) : cpuInputs, backend: cpu, attrs });
    const outs = Array.isArray(result) ? result : [result];
    moved.push(...outs);
    const back = outs.map((o) => gpu.makeTensorInfo(o.shape, o.dtype, cpu.readSync(o.dataId)));
    return Array.isArray(result) ? back : back[0]!;
  } finally {
    for (const t of moved) cpu.disposeData(t.dataId);
  }
}

/** Graph op types (TF op names, which are tfjs kernel names for these ops) of `ops` that run on the CPU under webgpu. */
export function cpuFallbackOps(ops: Iterable<string>): string[] {
  const fallback = new Set(cpuFallbackKernels());
  const out = new Set<string>();
  for (const op of ops) if (fallback.has(op)) out.add(op);
  return [...out].sort();
}

const noted = new Set<string>();

/**
 * Names, once per model and signature in this thread (on stderr, at load time), the ops of a graph that will run on
 * the CPU under webgpu: tfjs kernels WebGPU lacks (run by the fallback above) and tfsvc's host ops (string ops, table
 * lookups, ParseExample: custom-ops.ts, which replace tfjs's own mapping of an op where both exist). `topology` is the
 * tfjs artifacts' modelTopology (GraphDef JSON, with its function library). Returns the ops named, sorted.
 */
export function noteCpuFallbackOps(model: string, signature: string, topology: unknown): string[] {
  const t = topology as { node?: { op?: string }[]; library?: { function?: { nodeDef?: { op?: string }[] }[] } };
  const kernels = new Map<string, number>();
  const host = new Map<string, number>();
  const count = (op: string | undefined): void => {
    if (!op) return;
    const into = HOST_READ_OPS.has(op) ? host : cpuFallbackKernels().includes(op) ? kernels : undefined;
    into?.set(op, (into.get(op) ?? 0) + 1);
  };
  for (const n of t.node ?? []) count(n.op);
  for (const f of t.library?.function ?? []) for (const n of f.nodeDef ?? []) count(n.op);
  const key = `${model}\u0000${signature}`;
  const list = (m: Map<string, number>) => [...m.keys()].sort().map((op) => `${op} (${m.get(op)} node${m.get(op) === 1 ? '' : 's'})`).join(', ');
  const parts = [
    ...(kernels.size > 0 ? [`ops without a WebGPU kernel run on the CPU: ${list(kernels)}`] : []),
    ...(host.size > 0 ? [`tfsvc host ops run on the CPU: ${list(host)}`] : []),
  ];
  if (parts.length > 0 && !noted.has(key)) {
    noted.add(key);
    process.stderr.write(`tfsvc: ${model}, signature ${signature}: ${parts.join('; ')}\n`);
  }
  return [...kernels.keys(), ...host.keys()].sort();
}
