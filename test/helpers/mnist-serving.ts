// A real `tfsvc serve` (in process) of the fixture MNIST model on a free loopback port, one batch thread, quiet: the
// target the load and deploy tests send real requests to. The caller closes it.
import path from 'node:path';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { repoRoot } from './shared-models.js';

export function startMnistServing(): Promise<Serving> {
  return startServing({
    models: [{ name: 'mnist', basePath: path.join(repoRoot, 'fixtures/models/mnist'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    log: () => {},
  });
}
