// The serving workload: Deployment, Service, PodDisruptionBudget and NetworkPolicy for one `tfsvc serve` model.
// Contract with `tfsvc serve` (each is tested there): /healthz answers while the process lives, /readyz turns 503 when
// no version is AVAILABLE or at SIGTERM, grpc.health.v1 answers for "" and for the model name, SIGTERM turns readiness
// off and keeps serving for --drain_delay_seconds, then drains for at most --drain_timeout_seconds and exits 0,
// MODEL_NAME / MODEL_BASE_PATH configure the model as in the tensorflow/serving image.
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import { GRPC_PORT, METRICS_PATH, MOUNTS, REST_PORT, type K8sOptions } from './k8s-options.js';

/** Labels that select this model's pods; every object carries them. */
export function selectorLabels(o: K8sOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': 'tfsvc', 'app.kubernetes.io/instance': o.name };
}
export function objectMeta(o: K8sOptions, name = o.name, extra: Partial<IObjectMeta> = {}): IObjectMeta {
  return {
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels: { ...selectorLabels(o), 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/managed-by': 'tfsvc' },
    ...extra,
  };
}

/** Requests and limits for the QoS class asked for (the kubelet derives the class from exactly these rules). */
export function resources(o: K8sOptions): IResourceRequirements | undefined {
  const gpu: Record<string, string> = o.gpu > 0 ? { 'nvidia.com/gpu': String(o.gpu) } : {};
  switch (o.qos) {
    case 'guaranteed':
      return { requests: { cpu: o.cpu, memory: o.memory, ...gpu }, limits: { cpu: o.cpu, memory: o.memory, ...gpu } };
    case 'burstable':
      // No CPU limit: throttling a latency-sensitive server hurts its P99 more than sharing spare CPU does.
      return { requests: { cpu: o.cpu, memory: o.memory, ...gpu }, limits: { memory: o.memory, ...gpu } };
    case 'besteffort':
      return undefined;
  }
}

function serveArgs(o: K8sOptions): string[] {
  const args = ['serve', `--model_name=${o.modelName}`, `--model_base_path=${o.modelBasePath}`, `--port=${GRPC_PORT}`, `--rest_api_port=${REST_PORT}`];
  if (o.tlsSecret) args.push(`--ssl_cert_file=${MOUNTS.tls}/tls.crt`, `--ssl_key_file=${MOUNTS.tls}/tls.key`);
  if (o.jwksConfigMap) args.push(`--auth_jwks=${MOUNTS.jwks}/jwks.json`);
  if (o.gpu > 0) args.push('--backend=webgpu');
  // Shutdown timing is the server's own (no preStop `sleep` hook, which needs a shell tool in the image): at SIGTERM
  // the pod leaves the endpoints while tfsvc keeps serving for the delay, readiness already off; then the drain.
  args.push(`--drain_delay_seconds=${o.preStopSeconds}`, `--drain_timeout_seconds=${o.drainSeconds}`);
  return [...args, ...o.serveArgs];
}

function probes(o: K8sOptions): Pick<IContainer, 'readinessProbe' | 'livenessProbe' | 'startupProbe'> {
  const scheme = o.tlsSecret ? 'HTTPS' : 'HTTP';
  const http = (path: string): IProbe['httpGet'] => ({ path, port: 'http', scheme });
  const readinessCheck: IProbe = o.grpcProbes ? { grpc: { port: GRPC_PORT, service: o.modelName } } : { httpGet: http('/readyz') };
  const livenessCheck: IProbe = o.grpcProbes ? { grpc: { port: GRPC_PORT, service: '' } } : { httpGet: http('/healthz') };
  return {
    readinessProbe: { ...readinessCheck, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    livenessProbe: { ...livenessCheck, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    // A model load (download, CRC checks, warmup) can take minutes; liveness waits for the process to answer once.
    startupProbe: { ...livenessCheck, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 60 },
  };
}

function volumes(o: K8sOptions): { volumes: IVolume[]; mounts: IVolumeMount[] } {
  // The root filesystem is read-only; tfsvc writes only its download cache and temp files under /tmp.
  const volumes: IVolume[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: IVolumeMount[] = [{ name: 'tmp', mountPath: MOUNTS.tmp }];
  if (o.modelPvc) {
    volumes.push({ name: 'models', persistentVolumeClaim: { claimName: o.modelPvc, readOnly: true } });
    mounts.push({ name: 'models', mountPath: MOUNTS.models, readOnly: true });
  }
  if (o.tlsSecret) {
    volumes.push({ name: 'tls', secret: { secretName: o.tlsSecret } });
    mounts.push({ name: 'tls', mountPath: MOUNTS.tls, readOnly: true });
  }
  if (o.jwksConfigMap) {
    volumes.push({ name: 'jwks', configMap: { name: o.jwksConfigMap } });
    mounts.push({ name: 'jwks', mountPath: MOUNTS.jwks, readOnly: true });
  }
  return { volumes, mounts };
}

export function deployment(o: K8sOptions): Deployment {
  const { volumes: vols, mounts } = volumes(o);
  const res = resources(o);
  // The model is named by flags, not MODEL_NAME / MODEL_BASE_PATH: explicit args show in `kubectl describe`.
  const env = [
    { name: 'TMPDIR', value: MOUNTS.tmp },
    // NVIDIA's container runtime mounts the Vulkan driver (which Dawn uses) only when "graphics" is asked for.
    ...(o.gpu > 0 ? [{ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' }] : []),
  ];
  const container: IContainer = {
    name: 'tfsvc',
    image: o.image,
    args: serveArgs(o),
    ports: [
      { name: 'grpc', containerPort: GRPC_PORT, protocol: 'TCP' },
      { name: 'http', containerPort: REST_PORT, protocol: 'TCP' },
    ],
    env,
    ...(o.s3Secret ? { envFrom: [{ secretRef: { name: o.s3Secret } }] } : {}),
    ...(res ? { resources: res } : {}),
    ...probes(o),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: mounts,
  };
  return new Deployment({
    metadata: objectMeta(o),
    spec: {
      ...(o.autoscaler === 'none' ? { replicas: o.replicas } : {}),
      selector: { matchLabels: selectorLabels(o) },
      // Availability-preserving rollout: a new pod must be ready before an old one goes.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...selectorLabels(o), 'app.kubernetes.io/component': 'server' },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(REST_PORT), 'prometheus.io/path': METRICS_PATH },
        },
        spec: {
          // SIGTERM: the drain delay (still serving, readiness off), then the drain; the kubelet kills only after the
          // whole grace period, which leaves 5 s beyond both for unloading and exit.
          terminationGracePeriodSeconds: o.preStopSeconds + o.drainSeconds + 5,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          automountServiceAccountToken: false,
          containers: [container],
          volumes: vols,
          ...(o.gpu > 0 ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
        },
      },
    },
  });
}

export function service(o: K8sOptions): Service {
  return new Service({
    metadata: objectMeta(o),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(o),
      ports: [
        { name: 'grpc', port: GRPC_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'http', port: REST_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: o.tlsSecret ? 'https' : 'http' },
      ],
    },
  });
}

/** Voluntary evictions (node drains, upgrades) take at most one pod at a time. */
export function podDisruptionBudget(o: K8sOptions): PodDisruptionBudget {
  return new PodDisruptionBudget({ metadata: objectMeta(o), spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(o) } } });
}

/**
 * REST is open to any client; gRPC (8500) is admitted only from pods inside the cluster (any namespace): the usual
 * advice is never to expose TF Serving's gRPC port publicly. An empty namespaceSelector matches every namespace but no
 * address outside the cluster.
 */
export function networkPolicy(o: K8sOptions): NetworkPolicy {
  return new NetworkPolicy({
    metadata: objectMeta(o),
    spec: {
      podSelector: { matchLabels: selectorLabels(o) },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ port: REST_PORT, protocol: 'TCP' }] },
        { from: [{ namespaceSelector: {} }], ports: [{ port: GRPC_PORT, protocol: 'TCP' }] },
      ],
    },
  });
}
