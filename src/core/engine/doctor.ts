// What `tfsvc doctor` reports: each engine backend, whether it can run here and why not, and every WebGPU adapter
// Dawn finds. Each backend is probed the way the engine would start it, so "available" means `--backend X` works.
import { describeBackend, initBackend, packageInstalled } from './backend.js';
import type { AdapterReport } from './webgpu.js';

export interface BackendStatus {
  name: 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';
  available: boolean;
  /** What runs (e.g. `wasm (SIMD, single-threaded)`, `webgpu (NVIDIA ...)`), or why it cannot. */
  detail: string;
}

export interface DoctorReport {
  node: string;
  platform: string;
  backends: BackendStatus[];
  adapters: AdapterReport[];
  /** What `--backend auto` picks here. */
  auto: string;
}

function reason(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

async function probe(name: 'wasm' | 'cpu'): Promise<BackendStatus> {
  try {
    await initBackend(name);
    return { name, available: true, detail: describeBackend() };
  } catch (err) {
    return { name, available: false, detail: reason(err) };
  }
}

export async function diagnose(): Promise<DoctorReport> {
  const backends: BackendStatus[] = [await probe('cpu'), await probe('wasm')];
  let adapters: AdapterReport[] = [];
  if (!packageInstalled('webgpu')) {
    backends.push({ name: 'webgpu', available: false, detail: 'the optional package webgpu (Dawn) is not installed: npm i webgpu' });
  } else {
    try {
      const { listAdapters } = await import('./webgpu.js');
      adapters = await listAdapters();
      if (adapters.length === 0) {
        backends.push({ name: 'webgpu', available: false, detail: 'Dawn found no WebGPU adapter: no Vulkan driver (install the GPU vendor\'s Vulkan driver, or Mesa\'s mesa-vulkan-drivers >= 23 for a software adapter)' });
      } else {
        const hw = adapters.filter((a) => !a.software);
        const first = hw[0] ?? adapters[0]!;
        backends.push({
          name: 'webgpu',
          available: true,
          detail: `${first.name}${first.software ? ' (software adapter: runs on the CPU, used only with --backend webgpu)' : ''}`,
        });
      }
    } catch (err) {
      backends.push({ name: 'webgpu', available: false, detail: reason(err) });
    }
  }
  const native = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].filter(packageInstalled);
  if (native.length === 0) {
    backends.push({ name: 'tensorflow', available: false, detail: 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed (optional: npm i @tensorflow/tfjs-node)' });
  } else {
    // Loading libtensorflow is what fails on a mismatched CUDA or glibc; only then is the package really usable.
    try {
      const spec: string = native[0]!;
      await import(spec);
      backends.push({ name: 'tensorflow', available: true, detail: native[0]! });
    } catch (err) {
      backends.push({ name: 'tensorflow', available: false, detail: `${native[0]} is installed but does not load: ${reason(err)}` });
    }
  }
  const hardware = adapters.find((a) => !a.software);
  const tfAvailable = backends.find((b) => b.name === 'tensorflow')!.available;
  const auto = hardware ? `webgpu (${hardware.name})` : tfAvailable ? 'tensorflow' : 'wasm';
  return { node: process.version, platform: `${process.platform}-${process.arch}`, backends, adapters, auto };
}
