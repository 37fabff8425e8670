// The WebGPU backend on Dawn (the `webgpu` npm package, an optional peer dependency): adapter discovery, the choice of
// adapter, and tfjs's WebGPU backend registered on a device tfsvc creates itself (so it can pick the adapter, watch for
// device loss and tell tests which device to destroy). Nothing here loads at CLI start-up: backend.ts and doctor import
// this module only when webgpu (or auto) is asked for, and this module imports Dawn only when called.
//
// Software adapters (Mesa's llvmpipe/lavapipe, SwiftShader) run every WebGPU shader on the CPU: correct, and what CI
// tests the GPU code path with, but slower than wasm. So they are used only when webgpu is asked for explicitly;
// `auto` takes a hardware adapter or none.
import { isMainThread, threadId, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { setWebGpuAdapterName } from './backend.js';
import { reportGpuMemory } from './gpu-memory.js';
import { installCpuFallbacks } from './webgpu-fallback.js';
import { installWebGpuKernelFixes } from './webgpu-kernel-fixes.js';

/** What doctor prints and metrics label an adapter with. */
export interface AdapterReport {
  /** Dawn's adapter name (e.g. `NVIDIA H100 80GB HBM3`, `llvmpipe (LLVM 15.0.6, 256 bits)`); selects it. */
  name: string;
  /** Dawn backend: vulkan, metal, d3d12, ... */
  backend: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation of WebGPU (llvmpipe, lavapipe, SwiftShader): used only when asked for explicitly. */
  software: boolean;
  /**
   * How many physical adapters Dawn lists under this name (2 on a machine with two identical GPUs). Dawn's node
   * binding selects an adapter by name only (`adapter=NAME`, first match; requestAdapter has no index or device id),
   * so one process can use only the first of identical adapters: docs/engine.md says how to serve each GPU.
   */
  count: number;
  limits: Record<string, number>;
  features: string[];
}

/** Limits that decide what a model can run (buffer sizes bound the largest tensor; workgroup sizes the kernels). */
const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info: Record<string, unknown>;
  limits: Record<string, number>;
  features: Set<string>;
  requestDevice(descriptor?: Record<string, unknown>): Promise<DeviceLike>;
}
export interface DeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
}

let dawnPromise: Promise<DawnModule> | undefined;

// One Dawn instance per adapter name for the life of the process. Each instance owns native threads; instances
// created and dropped (or several for one adapter) have made Node abort at exit ("std::system_error") in tests.
const instances = new Map<string, GpuLike>();
function instance(dawn: DawnModule, flag: string): GpuLike {
  let gpu = instances.get(flag);
  if (!gpu) {
    gpu = dawn.create([flag]);
    instances.set(flag, gpu);
  }
  return gpu;
}

/** Why Dawn cannot load here (the package is missing, or its binary does not load), or the module. */
export function loadDawn(): Promise<DawnModule> {
  dawnPromise ??= (async () => {
    // XDG_RUNTIME_DIR unset makes Vulkan loaders print warnings on every start; any private directory will do.
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    const spec: string = 'webgpu';
    let mod: DawnModule;
    try {
      mod = (await import(spec)) as DawnModule;
    } catch (err) {
      const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      throw new UsageError(
        missing
          ? 'backend "webgpu" needs the optional package webgpu (Dawn): npm i webgpu'
          : `backend "webgpu": the webgpu package (Dawn) does not load here: ${(err as Error).message}`,
      );
    }
    // tfjs's WebGPU backend refers to GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
    return mod;
  })();
  dawnPromise.catch(() => {
    dawnPromise = undefined;
  });
  return dawnPromise;
}

/** llvmpipe/lavapipe (Mesa), SwiftShader, or whatever Dawn itself calls a fallback adapter. */
function isSoftware(name: string, info: Record<string, unknown>): boolean {
  if (info.isFallbackAdapter === true) return true;
  return /llvmpipe|lavapipe|swiftshader|software/i.test(`${name} ${String(info.architecture ?? '')} ${String(info.description ?? '')}`);
}

/**
 * The adapters in Dawn's answer to a request for an adapter that does not exist (`no adapter with name '...' found.
 * Available adapters:\n * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'\n * backend: 'vulkan', name: ...`): one
 * entry per physical adapter, identical GPUs repeated.
 */
export function parseAdapterList(message: string): { backend: string; name: string }[] {
  return [...message.matchAll(/backend: '([^']*)', name: '([^']*)'/g)].map((m) => ({ backend: m[1]!, name: m[2]! }));
}

/** Dawn has no call that lists adapters, but asked for one that does not exist it answers with the list. */
async function adapterNames(dawn: DawnModule): Promise<{ backend: string; name: string }[]> {
  try {
    await instance(dawn, 'adapter=\u0001tfsvc-list-adapters').requestAdapter();
    return [];
  } catch (err) {
    return parseAdapterList(String((err as Error).message));
  }
}

function report(name: string, backend: string, count: number, adapter: AdapterLike): AdapterReport {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of KEY_LIMITS) limits[k] = Number(adapter.limits[k]);
  return {
    name,
    backend,
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    software: isSoftware(name, info),
    count,
    limits,
    features: [...adapter.features].sort(),
  };
}

/** What doctor and serving say when an adapter stands for several identical GPUs (undefined for a single one). */
export function identicalAdaptersNote(a: AdapterReport): string | undefined {
  if (a.count <= 1) return undefined;
  return `${a.count} identical adapters named ${a.name}: Dawn selects adapters by name, so this process uses only the first; serve each GPU from its own tfsvc process (docs/engine.md, "Several identical GPUs")`;
}

let adaptersPromise: Promise<AdapterReport[]> | undefined;

/**
 * Every WebGPU adapter Dawn finds, hardware first, one entry per name. Identical GPUs share one name and Dawn's node
 * binding selects adapters by name only, so they show as one entry whose `count` says how many there are, and a
 * process serves on the first of them. UsageError when Dawn is not installed.
 */
export function listAdapters(): Promise<AdapterReport[]> {
  adaptersPromise ??= (async () => {
    const dawn = await loadDawn();
    const counts = new Map<string, { backend: string; count: number }>();
    for (const { name, backend } of await adapterNames(dawn)) {
      const c = counts.get(name);
      if (c) c.count++;
      else counts.set(name, { backend, count: 1 });
    }
    const out: AdapterReport[] = [];
    for (const [name, { backend, count }] of counts) {
      const adapter = await instance(dawn, `adapter=${name}`).requestAdapter().catch(() => null);
      if (adapter) out.push(report(name, backend, count, adapter));
    }
    return out.sort((a, b) => Number(a.software) - Number(b.software));
  })();
  adaptersPromise.catch(() => {
    adaptersPromise = undefined;
  });
  return adaptersPromise;
}

/** Hardware adapters only: what `auto` and the serving plan use. Empty when Dawn is missing or finds none. */
export async function hardwareAdapters(): Promise<AdapterReport[]> {
  try {
    return (await listAdapters()).filter((a) => !a.software);
  } catch {
    return [];
  }
}

/** Tensors up to this many elements keep their host values when uploaded (see keepSmallHostCopies). */
const HOST_COPY_MAX_ELEMENTS = 1024;

interface UploadingBackend {
  uploadToGPU(dataId: object): void;
  tensorMap: { get(dataId: object): { values?: unknown; shape: number[] } | undefined };
}

/**
 * tfjs's WebGPU backend drops a tensor's host values once it uploads them ("don't store the values on cpu"). But
 * tfjs-converter reads an op's parameters from tensors synchronously (a StridedSlice's begin/end/strides, a
 * Reshape's shape, axes, sizes), and the same small constant is often also the input of a GPU kernel (Keras text
 * vectorization slices with the constants it concatenates): once a kernel has uploaded it, the next synchronous read
 * has nothing to read in Node ("OffscreenCanvas is not defined"). Small tensors therefore keep their host copy next
 * to the GPU one (tensor data is immutable in tfjs, so the two never disagree); large ones (weights, activations)
 * still live on the GPU only.
 */
function keepSmallHostCopies<B extends tf.KernelBackend>(backend: B): B {
  const b = backend as unknown as UploadingBackend;
  const upload = b.uploadToGPU.bind(b);
  b.uploadToGPU = (dataId) => {
    const data = b.tensorMap.get(dataId);
    const values = data && data.values != null && tf.util.sizeFromShape(data.shape) <= HOST_COPY_MAX_ELEMENTS ? data.values : undefined;
    upload(dataId);
    if (values !== undefined && data!.values == null) data!.values = values;
  };
  return backend;
}

/** The adapter this thread's engine was asked for: the pool gives each GPU worker its own (workerData.gpuAdapter). */
function wantedAdapter(): string | undefined {
  const fromWorker = (workerData as { gpuAdapter?: unknown } | null)?.gpuAdapter;
  if (typeof fromWorker === 'string' && fromWorker) return fromWorker;
  return process.env.TFSVC_WEBGPU_ADAPTER || undefined;
}

interface Current {
  adapter: AdapterReport;
  device: DeviceLike;
}
let current: Current | undefined;

/** The adapter and device this thread's webgpu backend runs on; undefined before initWebGpu. */
export function currentWebGpu(): Current | undefined {
  return current;
}

const deviceLostListeners: ((reason: string) => void)[] = [];

/** Called once when this thread's device is lost (driver reset, GPU removed, device.destroy()). */
export function onDeviceLost(listener: (reason: string) => void): void {
  deviceLostListeners.push(listener);
}

/**
 * Registers tfjs's `webgpu` backend on a device of the chosen adapter (workerData.gpuAdapter, $TFSVC_WEBGPU_ADAPTER,
 * else the first hardware adapter, else a software one) and makes it this thread's backend. Kernels WebGPU lacks run
 * on the CPU per op (webgpu-fallback.ts). UsageError naming what is missing when there is no adapter.
 */
export async function initWebGpu(): Promise<void> {
  if (current && tf.findBackend('webgpu')) {
    // Already running on a live device: switching back to it (from wasm, say) reuses it.
    if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu'))) throw new UsageError('backend "webgpu" failed to initialise');
    return;
  }
  const dawn = await loadDawn();
  const adapters = await listAdapters();
  const want = wantedAdapter();
  const chosen = want ? adapters.find((a) => a.name === want || a.name.includes(want)) : adapters[0];
  if (!chosen) {
    throw new UsageError(
      want
        ? `backend "webgpu": no WebGPU adapter named "${want}" (found: ${adapters.map((a) => a.name).join(', ') || 'none'})`
        : 'backend "webgpu": Dawn found no WebGPU adapter (no Vulkan driver: install the GPU vendor\'s Vulkan driver, or Mesa\'s mesa-vulkan-drivers >= 23 for a software one); run `tfsvc doctor`',
    );
  }
  const gpu = instance(dawn, `adapter=${chosen.name}`);
  // tfjs's WebGPU backend checks for navigator.gpu (a browser's) before it constructs; Node 20 has no navigator.
  const nav = ((globalThis as { navigator?: { gpu?: unknown } }).navigator ??= {});
  nav.gpu ??= gpu;
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new UsageError(`backend "webgpu": adapter ${chosen.name} went away`);
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend;
  };
  // The device asks for the adapter's own limits, as tfjs's browser registration does: the defaults (128 MiB storage
  // bindings) would refuse large batches that the hardware holds.
  const requiredLimits: Record<string, number> = {};
  for (const k of KEY_LIMITS) requiredLimits[k] = adapter.limits[k]!;
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => keepSmallHostCopies(new WebGPUBackend(device, adapter.info)), 3);
  if (!(await tf.setBackend('webgpu'))) throw new UsageError(`backend "webgpu" failed to initialise on ${chosen.name}`);
  current = { adapter: chosen, device };
  setWebGpuAdapterName(chosen.name);
  void device.lost.then((info) => {
    if (current?.device !== device) return;
    current = undefined;
    const why = `${info.reason}: ${info.message}`;
    for (const l of deviceLostListeners) l(why);
    // Every weight of every model in this thread lived on that device. An inference worker ends itself: the pool
    // fails its in-flight batch, starts a fresh worker (a new device) and reloads every model version into it.
    if (!isMainThread) {
      process.stderr.write(`tfsvc: WebGPU device on ${chosen.name} lost (${why}); restarting its inference worker\n`);
      process.exit(70);
    }
  });
  installWebGpuKernelFixes();
  await installCpuFallbacks();
  // An inference worker tells the serving thread how much device memory its engine holds (metrics).
  if (!isMainThread) reportGpuMemory(chosen.name, threadId);
}
