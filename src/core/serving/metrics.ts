// Prometheus metrics (prom-client, own registry). TF Serving exports its TensorFlow monitoring metrics with '/' turned
// into ':' (`/tensorflow/serving/request_count` → `:tensorflow:serving:request_count`), and prom-client accepts those
// names as they are, so dashboards built for TF Serving keep working: same names, labels, units (microseconds) and
// buckets (exponential, 10 × 1.8^i, 33 buckets). tfsvc's own metrics are prefixed `tfsvc_` and use seconds.
// The metrics updated per request or per batch are bound-metrics.ts's (label sets bound once, same exposition text);
// the rare ones (model loads) are prom-client's own.
import client from 'prom-client';
import type { QueueId } from './batcher.js';
import { BoundCounter, BoundGauge, BoundHistogram } from './bound-metrics.js';

const TF_BUCKETS = client.exponentialBuckets(10, 1.8, 33);
const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * Bucket bounds of tfsvc_request_duration_seconds. TF Serving's latency histogram has no bound at round SLO thresholds
 * (10 µs × 1.8^i jumps from 67 ms to 121 ms), so a "share of requests under 100 ms" SLI could not be computed from it.
 * These bounds hold the thresholds latency SLOs are written with; the SLO kit (src/core/deploy/slo-rules.ts) accepts
 * exactly these thresholds. Keep the two in step: the kit imports this list.
 */
export const REQUEST_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
  0.75, 1, 1.5, 2, 2.5, 5, 10,
];

export type ApiName = 'Predict' | 'Classify' | 'Regress' | 'GetModelMetadata' | 'GetModelStatus';

export class ServingMetrics {
  readonly registry = new client.Registry();
  private readonly requestCount = new BoundCounter({
    name: ':tensorflow:serving:request_count',
    help: 'The total number of requests.',
    labelNames: ['model_name', 'status'],
    registers: [this.registry],
  });
  private readonly requestLatency = new BoundHistogram({
    name: ':tensorflow:serving:request_latency',
    help: 'Distribution of wall time (in microseconds) for Tensorflow Serving request.',
    labelNames: ['model_name', 'API', 'entrypoint'],
    buckets: TF_BUCKETS,
    registers: [this.registry],
  });
  private readonly requestDuration = new BoundHistogram({
    name: 'tfsvc_request_duration_seconds',
    help: 'Wall time of a request from its arrival to its answer, in seconds, with buckets at SLO thresholds.',
    labelNames: ['model_name', 'API', 'entrypoint'],
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly runtimeLatency = new BoundHistogram({
    name: ':tensorflow:serving:runtime_latency',
    help: 'Distribution of wall time (in microseconds) for Tensorflow runtime.',
    labelNames: ['model_name', 'API', 'runtime'],
    buckets: TF_BUCKETS,
    registers: [this.registry],
  });
  private readonly exampleCounts = new BoundHistogram({
    name: ':tensorflow:serving:request_example_counts',
    help: 'The number of tensorflow.Examples per request.',
    labelNames: ['model'],
    buckets: client.exponentialBuckets(1, 2, 15),
    registers: [this.registry],
  });
  private readonly exampleCountTotal = new BoundCounter({
    name: ':tensorflow:serving:request_example_count_total',
    help: 'The total number of tensorflow.Examples.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly loadAttempts = new client.Counter({
    name: ':tensorflow:cc:saved_model:load_attempt_count',
    help: 'The number of times a SavedModel was successfully loaded.',
    labelNames: ['model_path', 'status'],
    registers: [this.registry],
  });
  private readonly loadLatency = new client.Counter({
    name: ':tensorflow:cc:saved_model:load_latency',
    help: 'Latency in microseconds for SavedModels that were successfully loaded.',
    labelNames: ['model_path'],
    registers: [this.registry],
  });
  private readonly warmupLatency = new client.Histogram({
    name: ':tensorflow:serving:model_warmup_latency',
    help: 'Distribution of wall time (in microseconds) for warming up the model.',
    labelNames: ['model_path', 'status'],
    buckets: TF_BUCKETS,
    registers: [this.registry],
  });
  private readonly queueDelay = new BoundHistogram({
    name: 'tfsvc_queue_delay_seconds',
    help: 'Time a request waited in its batch queue before its batch started.',
    labelNames: ['model_name', 'version', 'signature'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly batchSize = new BoundHistogram({
    name: 'tfsvc_batch_size',
    help: 'Rows per executed batch (before padding).',
    labelNames: ['model_name', 'signature'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  private readonly paddingRows = new BoundCounter({
    name: 'tfsvc_batch_padding_rows_total',
    help: 'Rows added to batches to reach an allowed batch size.',
    labelNames: ['model_name', 'signature'],
    registers: [this.registry],
  });
  private readonly inference = new BoundHistogram({
    name: 'tfsvc_inference_seconds',
    help: 'Time a worker spent on one batch, including the transfer to and from the worker.',
    labelNames: ['model_name', 'version', 'signature'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly rejected = new BoundCounter({
    name: 'tfsvc_batch_queue_rejections_total',
    help: 'Requests refused because their batch queue was full (HTTP 503).',
    labelNames: ['model_name', 'signature'],
    registers: [this.registry],
  });
  private readonly workerRestarts = new client.Counter({
    name: 'tfsvc_worker_restarts_total',
    help: 'Inference workers discarded and replaced: reason="fault" (the engine reported a fault such as a WASM trap) or "exit" (the thread died).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly inFlight = new BoundGauge({
    name: 'tfsvc_in_flight_requests',
    help: 'Requests being processed (received, not yet answered).',
    labelNames: ['model_name'],
    registers: [this.registry],
  });
  private readonly loadSeconds = new client.Gauge({
    name: 'tfsvc_model_load_seconds',
    help: 'Time to load a model version into every worker.',
    labelNames: ['model_name', 'version'],
    registers: [this.registry],
  });
  private readonly warmupSeconds = new client.Gauge({
    name: 'tfsvc_model_warmup_seconds',
    help: 'Time to warm up a model version.',
    labelNames: ['model_name', 'version'],
    registers: [this.registry],
  });

  private readonly storageErrors = new client.Counter({
    name: 'tfsvc_storage_errors_total',
    help: 'Failed listings or downloads of a model base path in object storage (serving versions stay loaded).',
    labelNames: ['model_name'],
    registers: [this.registry],
  });

  storageError(model: string): void {
    this.storageErrors.inc({ model_name: model });
  }

  request(model: string, api: ApiName, entrypoint: 'REST' | 'GRPC', status: string, latencyMicros: number, examples?: number): void {
    this.requestCount.labels(model, status).inc();
    this.requestLatency.labels(model, api, entrypoint).observe(latencyMicros);
    this.requestDuration.labels(model, api, entrypoint).observe(latencyMicros / 1e6);
    if (examples !== undefined) {
      this.exampleCounts.labels(model).observe(examples);
      this.exampleCountTotal.labels(model).inc(examples);
    }
  }

  requestStarted(model: string): () => void {
    const g = this.inFlight.labels(model);
    g.inc();
    return () => g.dec();
  }

  batch(q: QueueId, info: { size: number; paddedSize: number; queueDelaysMs: number[]; inferenceMs: number }): void {
    const v = String(q.version);
    const delay = this.queueDelay.labels(q.name, v, q.signature);
    for (const d of info.queueDelaysMs) delay.observe(d / 1000);
    this.batchSize.labels(q.name, q.signature).observe(info.size);
    if (info.paddedSize > info.size) this.paddingRows.labels(q.name, q.signature).inc(info.paddedSize - info.size);
    this.inference.labels(q.name, v, q.signature).observe(info.inferenceMs / 1000);
    this.runtimeLatency.labels(q.name, 'Predict', 'tfsvc').observe(info.inferenceMs * 1000);
  }

  workerRestarted(reason: 'fault' | 'exit'): void {
    this.workerRestarts.inc({ reason });
  }

  queueRejected(q: QueueId): void {
    this.rejected.labels(q.name, q.signature).inc();
  }

  versionLoaded(name: string, version: number, modelPath: string, loadMs: number, warmupMs: number, warmedUp: boolean): void {
    this.loadAttempts.inc({ model_path: modelPath, status: 'success' });
    this.loadLatency.inc({ model_path: modelPath }, Math.round(loadMs * 1000));
    if (warmedUp) this.warmupLatency.observe({ model_path: modelPath, status: 'OK' }, warmupMs * 1000);
    this.loadSeconds.set({ model_name: name, version: String(version) }, loadMs / 1000);
    this.warmupSeconds.set({ model_name: name, version: String(version) }, warmupMs / 1000);
  }

  versionFailed(modelPath: string): void {
    this.loadAttempts.inc({ model_path: modelPath, status: 'fail' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
