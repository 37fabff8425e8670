// The real engine, for serving tests on webgpu, with one test-only trigger: a request whose first input value is
// -777 destroys this worker's WebGPU device before running (device.destroy(), the way a driver reset or a removed
// GPU looks to Dawn), so the tests can watch the pool recover. Loaded by the pool's workers as their loaderModule.
import { loadModel as realLoadModel } from '../../src/core/engine/model.js';
import { currentWebGpu } from '../../src/core/engine/webgpu.js';
import type { HostTensor, LoadedModel, LoadOptions } from '../../src/core/engine/types.js';

export const DESTROY_DEVICE = -777;

export async function loadModel(dir: string, options?: LoadOptions): Promise<LoadedModel> {
  const model = await realLoadModel(dir, options);
  return {
    backend: model.backend,
    signatures: model.signatures,
    unavailable: model.unavailable,
    run(signature: string, inputs: Record<string, HostTensor>, outputFilter?: string[]) {
      const first = Object.values(inputs)[0]?.data;
      if (first && !Array.isArray(first) && Number(first[0]) === DESTROY_DEVICE) currentWebGpu()?.device.destroy();
      return model.run(signature, inputs, outputFilter);
    },
    dispose: () => model.dispose(),
  };
}
