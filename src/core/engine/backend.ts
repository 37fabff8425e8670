// Chooses and initialises this thread's TensorFlow.js backend. Every worker_thread has its own tfjs instance and must
// call initBackend itself; the native packages (@tensorflow/tfjs-node[-gpu]) and Dawn (`webgpu`) are optional peer
// dependencies, imported dynamically only when asked for, so no other code path requires them or pays their load time.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import type { BackendName } from './types.js';

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'webgpu', 'tensorflow', 'auto'];

let wasmPathsSet = false;

/** Directory holding the .wasm binaries of @tensorflow/tfjs-backend-wasm (with a trailing slash), from any cwd. */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/**
 * The wasm backend uses its SIMD build when the runtime validates SIMD (Node 20 does). Its multi-threaded build is
 * switched off in Node by tfjs itself (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tensorflow/tfjs#3830), so
 * `setThreadsCount` has no effect here: parallelism comes from worker threads, one engine per thread.
 */
async function initWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    wasm.setWasmPaths(wasmDir());
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new UsageError('the wasm backend failed to initialise');
}

async function initCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new UsageError('the cpu backend failed to initialise');
}

/** Imports the first native package that is installed; returns its name, or undefined when none is. */
async function importNative(): Promise<string | undefined> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      const spec: string = pkg;
      await import(spec);
      return pkg;
    } catch {
      // Not installed (or its binary does not load here): try the next one.
    }
  }
  return undefined;
}

// tfjs's setBackend is not safe to call again while a backend is still initialising: the later calls resolve false
// (seen as "the wasm backend failed to initialise" when several models loaded at once). So initialisations run one at a
// time on this thread, and concurrent callers asking for the same backend share the one in progress.
let initChain: Promise<unknown> = Promise.resolve();
const initInProgress = new Map<BackendName, Promise<string>>();

/**
 * Initialises `name` on this thread and returns the backend actually running ('wasm', 'cpu', 'webgpu' or
 * 'tensorflow'). 'auto' prefers a hardware WebGPU adapter (never a software one such as llvmpipe), then
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node when installed, then wasm. UsageError when 'tensorflow' or
 * 'webgpu' is asked for and cannot run (the message names what is missing). Safe to call concurrently and repeatedly.
 */
export function initBackend(name: BackendName = 'wasm'): Promise<string> {
  const pending = initInProgress.get(name);
  if (pending) return pending;
  const p = initChain.then(() => initBackendNow(name));
  initChain = p.catch(() => undefined);
  initInProgress.set(name, p);
  const done = (): void => {
    if (initInProgress.get(name) === p) initInProgress.delete(name);
  };
  p.then(done, done);
  return p;
}

async function initBackendNow(name: BackendName): Promise<string> {
  // Production mode: no debug checks, no "install tfjs-node" banner from the cpu backend on every thread.
  tf.env().set('PROD', true);
  switch (name) {
    case 'wasm':
      if (tf.getBackend() !== 'wasm' || !tf.findBackend('wasm')) await initWasm();
      break;
    case 'cpu':
      if (tf.getBackend() !== 'cpu') await initCpu();
      break;
    case 'webgpu':
      await (await import('./webgpu.js')).initWebGpu();
      break;
    case 'tensorflow': {
      if (tf.getBackend() === 'tensorflow') break;
      const pkg = await importNative();
      if (!pkg || !(await tf.setBackend('tensorflow'))) {
        throw new UsageError(`backend "tensorflow" needs ${NATIVE_PACKAGES.join(' or ')} installed (npm install @tensorflow/tfjs-node); use --backend wasm or cpu`);
      }
      break;
    }
    case 'auto': {
      if (tf.getBackend() === 'tensorflow' || tf.getBackend() === 'webgpu') break;
      const webgpu = await import('./webgpu.js');
      if ((await webgpu.hardwareAdapters()).length > 0) {
        await webgpu.initWebGpu();
        break;
      }
      const pkg = await importNative();
      if (!pkg || !(await tf.setBackend('tensorflow'))) await initWasm();
      break;
    }
    default:
      throw new UsageError(`unknown backend "${name as string}" (choose ${BACKEND_NAMES.join(', ')})`);
  }
  return tf.getBackend();
}

/** A short description of the running backend, e.g. `wasm (SIMD)`, for logs and `run`'s stderr note. */
export function describeBackend(): string {
  const name = tf.getBackend();
  if (name === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return `wasm (${[simd ? 'SIMD' : 'no SIMD', threads ? 'threads' : 'single-threaded'].join(', ')})`;
  }
  if (name === 'webgpu') {
    const adapter = webgpuAdapterName;
    return adapter ? `webgpu (${adapter})` : 'webgpu';
  }
  return name;
}

/** Set by webgpu.ts when it initialises, so describeBackend need not import it (and Dawn) to name the adapter. */
let webgpuAdapterName: string | undefined;
export function setWebGpuAdapterName(name: string | undefined): void {
  webgpuAdapterName = name;
}

/** Whether `name` names a package tfsvc can import here (for doctor): resolved, not loaded. */
export function packageInstalled(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}
