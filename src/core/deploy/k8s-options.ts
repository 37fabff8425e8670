// What `tfsvc k8s` is asked to generate, after flag parsing and checks. Plain data: the object builders
// (workload.ts, autoscaling.ts, monitoring.ts) read it and nothing else.
import { UsageError } from '../errors.js';
import type { LatencySlo } from './slo-spec.js';

export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';
export type Autoscaler = 'hpa' | 'keda' | 'none';

export const REST_PORT = 8501;
export const GRPC_PORT = 8500;
export const METRICS_PATH = '/monitoring/prometheus/metrics';
/** Where the container finds what the manifests mount. */
export const MOUNTS = { models: '/models', tls: '/etc/tfsvc/tls', jwks: '/etc/tfsvc/jwks', tmp: '/tmp' } as const;

export interface K8sOptions {
  readonly name: string;
  readonly namespace?: string;
  readonly image: string;
  readonly modelName: string;
  /** s3://bucket/prefix or a path in the container; with modelPvc, a path under /models. */
  readonly modelBasePath: string;
  /** A PersistentVolumeClaim holding the model versions, mounted read-only at /models. */
  readonly modelPvc?: string;
  /** A Secret whose keys become environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_ENDPOINT ...). */
  readonly s3Secret?: string;
  readonly replicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Requests per second one pod should take; the autoscaler's target. */
  readonly targetQps: number;
  readonly autoscaler: Autoscaler;
  /** Prometheus URL KEDA's trigger queries. */
  readonly prometheusUrl: string;
  /** GPUs per pod (nvidia.com/gpu); 0 for none. */
  readonly gpu: number;
  /** A kubernetes.io/tls Secret (tls.crt, tls.key, optional ca.crt): REST is served over HTTPS. */
  readonly tlsSecret?: string;
  /** A ConfigMap with key jwks.json: requests need a JWT signed by one of its keys. */
  readonly jwksConfigMap?: string;
  readonly qos: QosClass;
  readonly cpu: string;
  readonly memory: string;
  /** Seconds a pod may take to answer what it has in flight once it stops listening (serve --drain_timeout_seconds). */
  readonly drainSeconds: number;
  /**
   * Seconds a pod keeps serving after SIGTERM, readiness off, while it leaves the Service's endpoints, so no request
   * is routed to a closed port (serve --drain_delay_seconds; what a preStop sleep does, without a shell tool).
   */
  readonly preStopSeconds: number;
  /** Probe over gRPC (grpc.health.v1) instead of HTTP /readyz and /healthz. */
  readonly grpcProbes: boolean;
  readonly slos: readonly LatencySlo[];
  /** Extra `tfsvc serve` flags, passed through. */
  readonly serveArgs: readonly string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks what the schemas cannot: names Kubernetes accepts, coherent replica counts and QoS. */
export function checkK8sOptions(o: K8sOptions): void {
  if (!DNS_LABEL.test(o.name) || o.name.length > 63) {
    throw new UsageError(`--name "${o.name}": Kubernetes names are lower-case letters, digits and '-', at most 63 characters`);
  }
  if (o.namespace !== undefined && !DNS_LABEL.test(o.namespace)) throw new UsageError(`--namespace "${o.namespace}" is not a valid namespace name`);
  if (o.minReplicas > o.maxReplicas) throw new UsageError(`--min ${o.minReplicas} is above --max ${o.maxReplicas}`);
  if (o.replicas < o.minReplicas || o.replicas > o.maxReplicas) {
    throw new UsageError(`--replicas ${o.replicas} is outside --min ${o.minReplicas} .. --max ${o.maxReplicas}`);
  }
  if (!(o.targetQps > 0)) throw new UsageError('--target-qps must be above 0');
  if (o.gpu > 0 && o.qos === 'besteffort') {
    throw new UsageError('--qos besteffort cannot hold a GPU: a GPU is a resource limit, which makes the pod Burstable or Guaranteed');
  }
  if (o.modelPvc && /^s3:\/\//i.test(o.modelBasePath)) throw new UsageError('give either --model-pvc or an s3:// --model_base_path, not both');
  if (o.modelPvc && !o.modelBasePath.startsWith(`${MOUNTS.models}/`)) {
    throw new UsageError(`with --model-pvc the model base path is inside the volume, under ${MOUNTS.models}/ (e.g. ${MOUNTS.models}/${o.modelName})`);
  }
  if (o.autoscaler === 'keda' && !/^https?:\/\//.test(o.prometheusUrl)) throw new UsageError('--prometheus-url must be an http(s) URL for KEDA');
}
