// Metrics for the backend side of serving (docs/serve.md lists them):
//   tfsvc_backend_batch_seconds{backend}          histogram: time per executed batch, by engine backend
//   tfsvc_batch_fill_ratio{backend}               histogram: rows in a batch / max_batch_size (how full batches run)
//   tfsvc_gpu_memory_in_use_bytes{adapter}        gauge: device memory tfjs holds on each WebGPU adapter
//   tfsvc_gpu_tensors{adapter}                    gauge: live tfjs tensors in each WebGPU engine
// and, when `nvidia-smi` is on the PATH at start, per GPU (labels gpu = index, name), read at each scrape:
//   :tensorflow:core:gpu_utilization              gauge: 0..1, nvidia-smi utilization.gpu / 100
//   :tensorflow:core:gpu_memory_used_bytes        gauge
//   :tensorflow:core:gpu_memory_total_bytes       gauge
// (TF Serving itself exports no GPU gauges; the names follow its `:tensorflow:core:` style for device metrics.)
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { listenGpuMemory } from '../engine/gpu-memory.js';

/** The nvidia-smi executable on PATH, or undefined. */
export function findOnPath(exe: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, exe);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface GpuSample {
  index: string;
  name: string;
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

const MiB = 1024 * 1024;

/** Parses `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuSample[] {
  const out: GpuSample[] = [];
  for (const line of csv.split('\n')) {
    const f = line.split(',').map((x) => x.trim());
    if (f.length < 5) continue;
    const [index, name, util, used, total] = f as [string, string, string, string, string];
    const n = (s: string): number => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN);
    out.push({ index, name, utilization: n(util) / 100, memoryUsedBytes: n(used) * MiB, memoryTotalBytes: n(total) * MiB });
  }
  return out;
}

function querySmi(exe: string): Promise<GpuSample[]> {
  return new Promise((resolve) => {
    execFile(exe, ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'], { timeout: 2000 }, (err, stdout) => {
      // A failing nvidia-smi (driver gone, timeout) leaves the gauges empty for this scrape rather than failing it.
      resolve(err ? [] : parseNvidiaSmi(stdout));
    });
  });
}

export class BackendMetrics {
  private readonly batchSeconds: client.Histogram;
  private readonly fill: client.Histogram;
  private readonly memory = listenGpuMemory();

  constructor(
    registry: client.Registry,
    /** The label batches get; serving sets it to what the workers report once a version loads (auto resolved). */
    public backend: string,
    private readonly maxBatchSize: number,
    smi: string | undefined = findOnPath('nvidia-smi'),
  ) {
    this.batchSeconds = new client.Histogram({
      name: 'tfsvc_backend_batch_seconds',
      help: 'Time per executed batch, by engine backend.',
      labelNames: ['backend'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    });
    this.fill = new client.Histogram({
      name: 'tfsvc_batch_fill_ratio',
      help: 'Rows in an executed batch divided by max_batch_size.',
      labelNames: ['backend'],
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1],
      registers: [registry],
    });
    const memory = this.memory;
    new client.Gauge({
      name: 'tfsvc_gpu_memory_in_use_bytes',
      help: 'Device memory held by tfjs on each WebGPU adapter (tf.memory().numBytesInGPU of its engine).',
      labelNames: ['adapter'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of memory.latest()) this.inc({ adapter: r.adapter }, r.bytesInGpu);
      },
    });
    new client.Gauge({
      name: 'tfsvc_gpu_tensors',
      help: 'Live tfjs tensors in the WebGPU engines of each adapter.',
      labelNames: ['adapter'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of memory.latest()) this.inc({ adapter: r.adapter }, r.tensors);
      },
    });
    if (smi) this.nvidiaGauges(registry, smi);
  }

  private nvidiaGauges(registry: client.Registry, smi: string): void {
    // One nvidia-smi call per scrape serves all three gauges: the first collected starts it, the others share it.
    let sample: Promise<GpuSample[]> | undefined;
    const take = (): Promise<GpuSample[]> => {
      if (!sample) {
        sample = querySmi(smi);
        setTimeout(() => (sample = undefined), 500).unref();
      }
      return sample;
    };
    const gauge = (name: string, help: string, value: (s: GpuSample) => number): void => {
      new client.Gauge({
        name,
        help,
        labelNames: ['gpu', 'name'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const s of await take()) if (Number.isFinite(value(s))) this.set({ gpu: s.index, name: s.name }, value(s));
        },
      });
    };
    gauge(':tensorflow:core:gpu_utilization', 'GPU utilisation (0..1) from nvidia-smi.', (s) => s.utilization);
    gauge(':tensorflow:core:gpu_memory_used_bytes', 'GPU memory in use from nvidia-smi.', (s) => s.memoryUsedBytes);
    gauge(':tensorflow:core:gpu_memory_total_bytes', 'GPU memory size from nvidia-smi.', (s) => s.memoryTotalBytes);
  }

  batch(info: { size: number; inferenceMs: number; ok: boolean }): void {
    if (!info.ok) return;
    this.batchSeconds.observe({ backend: this.backend }, info.inferenceMs / 1000);
    this.fill.observe({ backend: this.backend }, Math.min(1, info.size / this.maxBatchSize));
  }

  close(): void {
    this.memory.close();
  }
}
