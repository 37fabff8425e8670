// Whether this machine has a WebGPU adapter (Dawn, the `webgpu` package, plus a Vulkan driver: on CI Mesa's lavapipe
// from Debian bookworm-backports, installed by .ci/run). Tests that need one skip with a visible message naming what
// is missing; the adapter found is printed once per test file.
import { listAdapters, type AdapterReport } from '../../src/core/engine/webgpu.js';

async function find(): Promise<{ adapter?: AdapterReport; missing?: string }> {
  try {
    const adapters = await listAdapters();
    if (adapters.length === 0) {
      return { missing: 'Dawn found no WebGPU adapter: no Vulkan driver (on Debian: apt-get install -t bookworm-backports mesa-vulkan-drivers; .ci/run does)' };
    }
    return { adapter: adapters[0] };
  } catch (err) {
    return { missing: (err as Error).message };
  }
}

const found = await find();
export const webgpuAdapter = found.adapter;
export const SKIP_WEBGPU = `no WebGPU here: ${found.missing}`;
/** Options for test()/describe(): skip with the reason when there is no adapter. */
export const needsWebGpu = webgpuAdapter ? {} : { skip: SKIP_WEBGPU };

process.stderr.write(
  webgpuAdapter
    ? `# WebGPU adapter: ${webgpuAdapter.name} [${webgpuAdapter.backend}${webgpuAdapter.software ? ', software' : ''}], vendor ${webgpuAdapter.vendor}, architecture ${webgpuAdapter.architecture}\n`
    : `# SKIP ${SKIP_WEBGPU}\n`,
);
